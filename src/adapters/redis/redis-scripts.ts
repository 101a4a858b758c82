/**
 * The queue's Lua scripts: each call that changes a queue is one script, so it is atomic on the
 * server (nothing of another client runs in between). KEYS are the queue's keys in the order of
 * queueKeys().all; time is ARGV (the injected clock), never Redis TIME.
 *
 * Invariants the scripts keep (README.md explains them):
 * - the list holds ready items, oldest at the right (where claims take from) and sorted by
 *   (available_at_ms, seq) from right to left; producers LPUSH, so do we;
 * - before anything is pushed at time T, every delayed item due by T is promoted (LPUSHed in
 *   (available_at_ms, seq) order), so whatever is still delayed is newer than the whole list;
 * - meta holds "attempts:enqueued_at_ms:available_at_ms:seq" for every item of ours (ready,
 *   delayed, leased): its presence is the dedup check;
 * - held holds the element of every item not in the list (delayed or leased);
 * - delayed and leases are sorted sets scored by available_at_ms / expires_at_ms whose members
 *   start with the item's seq padded to 15 digits, so ties sort in enqueue order.
 */
import { luaScript } from './redis-connection.ts';

const PRELUDE = `
local K, META, HELD, DELAYED, LEASES, LEASE, SEQ, DEAD = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8]
local function fmt(n) return string.format('%d', n) end
local function pad(n) return string.format('%015d', n) end
local function meta_of(id)
  local m = redis.call('HGET', META, id)
  if not m then return nil end
  local a, e, v, s = string.match(m, '^(%d+):(%-?%d+):(%-?%d+):(%d+)$')
  if not a then return nil end
  return { a = tonumber(a), e = tonumber(e), v = tonumber(v), s = tonumber(s) }
end
local function meta_str(m) return fmt(m.a) .. ':' .. fmt(m.e) .. ':' .. fmt(m.v) .. ':' .. fmt(m.s) end
local function put_meta(id, m) redis.call('HSET', META, id, meta_str(m)) end
local function promote(now)
  local due = redis.call('ZRANGEBYSCORE', DELAYED, '-inf', fmt(now))
  if #due == 0 then return end
  for _, member in ipairs(due) do
    local id = string.sub(member, 17)
    local el = redis.call('HGET', HELD, id)
    if el then
      redis.call('LPUSH', K, el)
      redis.call('HDEL', HELD, id)
    end
  end
  redis.call('ZREMRANGEBYSCORE', DELAYED, '-inf', fmt(now))
end
local function decode(el)
  local ok, t = pcall(cjson.decode, el)
  if ok then return true, t end
  return false, nil
end
-- the item id an element of ours carries, or nil
local function id_in(t)
  if type(t) == 'table' and type(t._chimera_id) == 'string' then return t._chimera_id end
  return nil
end
local function before(a, b) return a.v < b.v or (a.v == b.v and a.s < b.s) end
`;

/** ARGV: now_ms, delay_ms, then id, element pairs. Returns how many were added. */
export const ENQUEUE = luaScript(
  'enqueue',
  `${PRELUDE}
local now, delay = tonumber(ARGV[1]), tonumber(ARGV[2])
promote(now)
local added = 0
for i = 3, #ARGV, 2 do
  local id, el = ARGV[i], ARGV[i + 1]
  if redis.call('HEXISTS', META, id) == 0 then
    local s = redis.call('INCR', SEQ)
    local v = now + delay
    put_meta(id, { a = 0, e = now, v = v, s = s })
    if delay > 0 then
      redis.call('HSET', HELD, id, el)
      redis.call('ZADD', DELAYED, fmt(v), pad(s) .. ':' .. id)
    else
      redis.call('LPUSH', K, el)
    end
    added = added + 1
  end
end
return added
`,
);

/**
 * ARGV: now_ms, then id, element, attempts, enqueued_at_ms, available_at_ms quintuples in claim
 * order. Puts items back as they were (a restore: an import or a copy), attempts and times kept;
 * one due by now goes on the list, a later one in the delayed set. Ids already present are
 * skipped. Returns how many were added.
 */
export const RESTORE = luaScript(
  'restore',
  `${PRELUDE}
local now = tonumber(ARGV[1])
promote(now)
local added = 0
for i = 2, #ARGV, 5 do
  local id, el = ARGV[i], ARGV[i + 1]
  if redis.call('HEXISTS', META, id) == 0 then
    local s = redis.call('INCR', SEQ)
    local v = tonumber(ARGV[i + 4])
    put_meta(id, { a = tonumber(ARGV[i + 2]), e = tonumber(ARGV[i + 3]), v = v, s = s })
    if v > now then
      redis.call('HSET', HELD, id, el)
      redis.call('ZADD', DELAYED, fmt(v), pad(s) .. ':' .. id)
    else
      redis.call('LPUSH', K, el)
    end
    added = added + 1
  end
end
return added
`,
);

/**
 * ARGV: now_ms, lease_ms, lease_id, consumer, max_dead. Pops ready elements from the right until
 * one can be leased; an element that is not JSON (a foreign producer's garbage) or a second copy
 * of an item already delayed or leased goes to the dead list with the reason. An element without
 * our id (a foreign producer's) is adopted: given an id (its task_id, else its id, else
 * sha1:<hash of the element>), rewritten to carry it, and given metadata.
 * Returns {id, element, meta, expires_at_ms, dead} or {false, false, false, false, dead, more}.
 */
export const CLAIM = luaScript(
  'claim',
  `${PRELUDE}
local now, lease_ms, lease_id, consumer, max_dead = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3], ARGV[4], tonumber(ARGV[5])
promote(now)
local dead = 0
local function bury(el, problem)
  redis.call('LPUSH', DEAD, cjson.encode({ raw = el, problem = problem, dead_at_ms = now }))
  dead = dead + 1
end
while true do
  local el = redis.call('RPOP', K)
  if not el then return { false, false, false, false, dead, 0 } end
  local ok, t = decode(el)
  if not ok then
    bury(el, 'not JSON')
  else
    local id = id_in(t)
    local m = id and meta_of(id)
    if id and m and redis.call('HEXISTS', HELD, id) == 1 then
      bury(el, 'a second copy of item ' .. id .. ', which is delayed or leased')
    else
      if not m then
        if not id then
          -- a foreign element: derive its id and rewrite it to carry the id
          local hash = 'sha1:' .. redis.sha1hex(el)
          if type(t) == 'table' and type(t.task_id) == 'string' and t.task_id ~= '' then id = t.task_id
          elseif type(t) == 'table' and type(t.id) == 'string' and t.id ~= '' then id = t.id
          else id = hash end
          if redis.call('HEXISTS', META, id) == 1 then id = hash end
          if redis.call('HEXISTS', META, id) == 1 then id = hash .. '#' .. fmt(redis.call('INCR', SEQ)) end
          local body = string.match(el, '^%s*(.-)%s*$')
          local tail = '"_chimera_id":' .. cjson.encode(id)
          if type(t) == 'table' and string.sub(body, 1, 1) == '{' then
            if next(t) == nil then el = '{' .. tail .. '}' else el = string.sub(body, 1, -2) .. ',' .. tail .. '}' end
          else
            el = '{' .. tail .. ',"_chimera_value":' .. body .. '}'
          end
        end
        m = { a = 0, e = now, v = now, s = redis.call('INCR', SEQ) }
        put_meta(id, m)
      end
      local exp = now + lease_ms
      redis.call('HSET', HELD, id, el)
      local member = pad(m.s) .. ':' .. lease_id
      redis.call('ZADD', LEASES, fmt(exp), member)
      redis.call('HSET', LEASE, lease_id, cjson.encode({ id, consumer, member }))
      return { id, el, meta_str(m), fmt(exp), dead, 0 }
    end
  end
  if dead >= max_dead then return { false, false, false, false, dead, 1 } end
end
`,
);

/** ARGV: lease_id. Returns 1 when the lease was held (the item is gone), else 0. */
export const ACK = luaScript(
  'ack',
  `${PRELUDE}
local rec = redis.call('HGET', LEASE, ARGV[1])
if not rec then return 0 end
local r = cjson.decode(rec)
redis.call('ZREM', LEASES, r[3])
redis.call('HDEL', LEASE, ARGV[1])
redis.call('HDEL', HELD, r[1])
redis.call('HDEL', META, r[1])
-- the last item gone: the order counter goes too (nothing is left to order against)
if redis.call('EXISTS', META, K) == 0 then redis.call('DEL', SEQ) end
return 1
`,
);

/**
 * ARGV: lease_id, problem, now_ms. Moves a leased element to the dead list: for an element Lua's
 * JSON decoder took but JavaScript's refuses (cjson accepts NaN, Infinity and hex numbers).
 * Returns 1 when the lease was held.
 */
export const BURY = luaScript(
  'bury',
  `${PRELUDE}
local rec = redis.call('HGET', LEASE, ARGV[1])
if not rec then return 0 end
local r = cjson.decode(rec)
local el = redis.call('HGET', HELD, r[1])
redis.call('ZREM', LEASES, r[3])
redis.call('HDEL', LEASE, ARGV[1])
redis.call('HDEL', HELD, r[1])
redis.call('HDEL', META, r[1])
if el then redis.call('LPUSH', DEAD, cjson.encode({ raw = el, problem = ARGV[2], dead_at_ms = tonumber(ARGV[3]) })) end
if redis.call('EXISTS', META, K) == 0 then redis.call('DEL', SEQ) end
return 1
`,
);

/** ARGV: now_ms, lease_id, delay_ms. Returns the item's attempts after the release, or -1 when the lease is not held. */
export const RETRY = luaScript(
  'retry',
  `${PRELUDE}
local now, lease_id, delay = tonumber(ARGV[1]), ARGV[2], tonumber(ARGV[3])
local rec = redis.call('HGET', LEASE, lease_id)
if not rec then return -1 end
local r = cjson.decode(rec)
local id = r[1]
redis.call('ZREM', LEASES, r[3])
redis.call('HDEL', LEASE, lease_id)
local m = meta_of(id)
if not m then
  redis.call('HDEL', HELD, id)
  return -1
end
m.a = m.a + 1
m.v = now + delay
m.s = redis.call('INCR', SEQ)
put_meta(id, m)
if delay > 0 then
  redis.call('ZADD', DELAYED, fmt(m.v), pad(m.s) .. ':' .. id)
else
  promote(now)
  local el = redis.call('HGET', HELD, id)
  redis.call('HDEL', HELD, id)
  if el then redis.call('LPUSH', K, el) end
end
return m.a
`,
);

/**
 * ARGV: now_ms, max_walk. Every lease that lapsed by now: its item goes back to the list with
 * attempts + 1, at its place by (available_at_ms, seq) (the head, unless other redelivered
 * items are older), walking at most max_walk elements from the right. Returns the ids, in that order.
 */
export const REDELIVER = luaScript(
  'redeliver',
  `${PRELUDE}
local now, max_walk = tonumber(ARGV[1]), tonumber(ARGV[2])
local lapsed = redis.call('ZRANGEBYSCORE', LEASES, '-inf', fmt(now))
if #lapsed == 0 then return {} end
local items = {}
for _, member in ipairs(lapsed) do
  local lease_id = string.sub(member, 17)
  local rec = redis.call('HGET', LEASE, lease_id)
  redis.call('HDEL', LEASE, lease_id)
  if rec then
    local id = cjson.decode(rec)[1]
    local m = meta_of(id)
    local el = redis.call('HGET', HELD, id)
    redis.call('HDEL', HELD, id)
    if m and el then
      m.a = m.a + 1
      put_meta(id, m)
      items[#items + 1] = { id = id, el = el, v = m.v, s = m.s }
    end
  end
end
redis.call('ZREMRANGEBYSCORE', LEASES, '-inf', fmt(now))
if #items == 0 then return {} end
table.sort(items, before)
-- take off the right the ready items older than the newest redelivered one, then merge
local newest = items[#items]
local older = {}
for _ = 1, max_walk do
  local el = redis.call('LINDEX', K, -1)
  if not el then break end
  local ok, t = decode(el)
  local id = ok and id_in(t)
  local m = id and meta_of(id)
  if not m or not before(m, newest) then break end
  redis.call('RPOP', K)
  older[#older + 1] = { el = el, v = m.v, s = m.s }
end
local merged = {}
local i, j = 1, 1
while i <= #older or j <= #items do
  if j > #items or (i <= #older and before(older[i], items[j])) then
    merged[#merged + 1] = older[i]; i = i + 1
  else
    merged[#merged + 1] = items[j]; j = j + 1
  end
end
for k = #merged, 1, -1 do redis.call('RPUSH', K, merged[k].el) end
local ids = {}
for k, it in ipairs(items) do ids[k] = it.id end
return ids
`,
);

/** No ARGV. Removes every item (ready, delayed, leased) and the queue's bookkeeping; keeps the dead list. Returns how many items. */
export const PURGE = luaScript(
  'purge',
  `${PRELUDE}
local n = redis.call('LLEN', K) + redis.call('ZCARD', DELAYED) + redis.call('ZCARD', LEASES)
redis.call('DEL', K, META, HELD, DELAYED, LEASES, LEASE, SEQ)
return n
`,
);
