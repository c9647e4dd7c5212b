-- One request's store operations, run atomically in one round trip.
--
-- ARGV[1] is the caller's clock (seconds); then each operation is a code and its arguments,
-- naming keys by their index in KEYS. Floats go back as strings: Redis truncates Lua
-- numbers to integers in replies.
--
--   R key limit period cost      GCRA rate limit   -> {allowed, remaining, reset_after, retry_after}
--   C first n inflight           distinct count over n bucket keys (PFCOUNT); inflight > 0
--                                also takes an in-flight place and adds the places others hold
--   A bucket inflight ttl_ms has_member member
--                                give back the in-flight place (inflight > 0) and add member
--   G key                        GET   -> value or nil
--   P key ttl_ms value           SET PX
local now = tonumber(ARGV[1])
local results = {}
local i = 2
local IN_FLIGHT_MS = 30000

while i <= #ARGV do
  local code = ARGV[i]
  if code == 'R' then
    local key = KEYS[tonumber(ARGV[i + 1])]
    local limit, period, cost = tonumber(ARGV[i + 2]), tonumber(ARGV[i + 3]), tonumber(ARGV[i + 4])
    local interval = period / limit
    local tat = tonumber(redis.call('GET', key)) or now
    if tat < now then tat = now end
    local new_tat = tat + interval * cost
    local allow_at = new_tat - period
    if now < allow_at then
      results[#results + 1] = {0, 0, tostring(tat - now), tostring(allow_at - now)}
    else
      -- A huge limit's step can vanish in the float; PX must still be at least 1.
      redis.call('SET', key, tostring(new_tat), 'PX', math.max(math.ceil((new_tat - now) * 1000), 1))
      local remaining = math.floor((period - (new_tat - now)) / interval + 1e-9)
      if remaining < 0 then remaining = 0 end
      results[#results + 1] = {1, remaining, tostring(new_tat - now), '0'}
    end
    i = i + 5
  elseif code == 'C' then
    local first, n, inflight = tonumber(ARGV[i + 1]), tonumber(ARGV[i + 2]), tonumber(ARGV[i + 3])
    local buckets = {}
    for k = first, first + n - 1 do buckets[#buckets + 1] = KEYS[k] end
    local count = redis.call('PFCOUNT', unpack(buckets))
    if inflight > 0 then
      local held = redis.call('INCR', KEYS[inflight]) - 1
      redis.call('PEXPIRE', KEYS[inflight], IN_FLIGHT_MS)
      count = count + held
    end
    results[#results + 1] = count
    i = i + 4
  elseif code == 'A' then
    local bucket, inflight, ttl = tonumber(ARGV[i + 1]), tonumber(ARGV[i + 2]), tonumber(ARGV[i + 3])
    if inflight > 0 then
      if redis.call('DECR', KEYS[inflight]) <= 0 then redis.call('DEL', KEYS[inflight]) end
    end
    if ARGV[i + 4] == '1' then
      redis.call('PFADD', KEYS[bucket], ARGV[i + 5])
      redis.call('PEXPIRE', KEYS[bucket], ttl)
    end
    results[#results + 1] = 0
    i = i + 6
  elseif code == 'G' then
    results[#results + 1] = redis.call('GET', KEYS[tonumber(ARGV[i + 1])])
    i = i + 2
  elseif code == 'P' then
    redis.call('SET', KEYS[tonumber(ARGV[i + 1])], ARGV[i + 3], 'PX', tonumber(ARGV[i + 2]))
    results[#results + 1] = 0
    i = i + 4
  else
    return redis.error_reply('guard: unknown store operation ' .. tostring(code))
  end
end
return results
