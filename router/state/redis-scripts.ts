// The Lua side of RedisStateStore: each op is one script, so each is atomic on the Redis server and
// N routers see one limit. Time is the server's (TIME), never a router's clock. A window is three
// keys sharing one hash tag (one Cluster slot): a ZSET log (id → time), a HASH of costs (id → cost)
// and the running total; all three get the same PEXPIRE on every take, so they expire together.
// Replies are integers (Lua numbers are truncated on the way out): times in ms, costs whole.

/** Server time in ms, and the prune every window op starts with; returns the total still inside. */
const PRELUDE = `
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

local function prune(log, costs, total_key, cutoff)
  local total = tonumber(redis.call('GET', total_key))
  local expired = redis.call('ZRANGEBYSCORE', log, '-inf', cutoff)
  local freed = 0
  for i = 1, #expired, 512 do
    local chunk = {}
    for j = i, math.min(i + 511, #expired) do chunk[#chunk + 1] = expired[j] end
    for _, v in ipairs(redis.call('HMGET', costs, unpack(chunk))) do freed = freed + (tonumber(v) or 0) end
    redis.call('HDEL', costs, unpack(chunk))
  end
  if #expired > 0 then redis.call('ZREMRANGEBYSCORE', log, '-inf', cutoff) end
  if redis.call('ZCARD', log) == 0 then
    redis.call('DEL', log, costs, total_key)
    return 0
  end
  if total == nil then
    -- the total went missing (evicted?): rebuild it from the costs, with the log's expiry
    total = 0
    for _, v in ipairs(redis.call('HVALS', costs)) do total = total + (tonumber(v) or 0) end
    redis.call('SET', total_key, total)
    local ttl = redis.call('PTTL', log)
    if ttl > 0 then redis.call('PEXPIRE', total_key, ttl) end
  elseif #expired > 0 then
    total = total - freed
    redis.call('SET', total_key, total, 'KEEPTTL')
  end
  return total
end
`;

/**
 * KEYS: log, costs, total. ARGV: id, cost, limit, windowMs.
 * Returns {allowed 0|1, total after (allowed) or now (denied), retryAfterMs (-1: never fits), resetMs}.
 */
export const TAKE_LUA = `${PRELUDE}
local log, costs, total_key = KEYS[1], KEYS[2], KEYS[3]
local id, cost, limit, window = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local now = now_ms()
local total = prune(log, costs, total_key, now - window)
local others = total - (tonumber(redis.call('HGET', costs, id)) or 0)
if others + cost <= limit then
  redis.call('ZADD', log, now, id)
  redis.call('HSET', costs, id, ARGV[2])
  redis.call('SET', total_key, others + cost, 'PX', window)
  redis.call('PEXPIRE', log, window)
  redis.call('PEXPIRE', costs, window)
  return {1, others + cost, 0, window}
end
local retry = -1
if cost <= limit then
  -- walk the oldest entries until their expiry frees enough for this take
  local need, freed, start = others + cost - limit, 0, 0
  while retry < 0 do
    local page = redis.call('ZRANGE', log, start, start + 127, 'WITHSCORES')
    if #page == 0 then break end
    local ids = {}
    for i = 1, #page, 2 do ids[#ids + 1] = page[i] end
    local values = redis.call('HMGET', costs, unpack(ids))
    for i = 1, #ids do
      if ids[i] ~= id then
        freed = freed + (tonumber(values[i]) or 0)
        if freed >= need then
          retry = tonumber(page[2 * i]) + window - now
          break
        end
      end
    end
    start = start + 128
  end
end
local reset = 0
local newest = redis.call('ZRANGE', log, -1, -1, 'WITHSCORES')
if #newest == 2 then reset = tonumber(newest[2]) + window - now end
return {0, total, retry, reset}
`;

/** KEYS: log, costs, total. ARGV: id, cost, windowMs. Returns 1 when the entry was still there and changed. */
export const SETTLE_LUA = `${PRELUDE}
local log, costs, total_key = KEYS[1], KEYS[2], KEYS[3]
local id, cost, window = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local total = prune(log, costs, total_key, now_ms() - window)
local old = tonumber(redis.call('HGET', costs, id))
if old == nil then return 0 end
redis.call('HSET', costs, id, ARGV[2])
redis.call('SET', total_key, total - old + cost, 'KEEPTTL')
return 1
`;

/**
 * KEYS: leases (a ZSET of id → expiry). ARGV: id, limit, ttlMs. Re-acquiring a held id renews it.
 * Returns {allowed 0|1, leases held after (allowed) or now (denied)}.
 */
export const ACQUIRE_LUA = `
local leases = KEYS[1]
local id, limit, ttl = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', leases, '-inf', now)
local held = redis.call('ZCARD', leases)
local mine = redis.call('ZSCORE', leases, id)
if not mine and held >= limit then return {0, held} end
redis.call('ZADD', leases, now + ttl, id)
if redis.call('PTTL', leases) < ttl then redis.call('PEXPIRE', leases, ttl) end
if not mine then held = held + 1 end
return {1, held}
`;
