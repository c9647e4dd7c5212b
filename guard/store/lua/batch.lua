-- One request's store operations, run atomically in one round trip.
--
-- ARGV[1] is the caller's clock (seconds); then each operation is a code and its arguments,
-- naming keys by their index in KEYS. Floats go back as strings: Redis truncates Lua
-- numbers to integers in replies.
--
--   R key limit period cost      GCRA rate limit   -> {allowed, remaining, reset_after, retry_after}
--   C key bucket n reserve       distinct count over the n buckets of `key` up to `bucket`
--                                (HyperLogLogs at key:bucket); reserve = '1' also takes an
--                                in-flight place (key:f) and adds the places others hold
--   A key bucket release ttl_ms has_member member
--                                give back the in-flight place (release = '1') and add member
--                                to key:bucket
--   G key                        GET   -> value or nil
--   P key ttl_ms value           SET PX
--
-- Bucket and in-flight keys are derived from `key`, whose hash tag they share (so on a
-- cluster they live in its slot).
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
    local base, current, n = KEYS[tonumber(ARGV[i + 1])], tonumber(ARGV[i + 2]), tonumber(ARGV[i + 3])
    local older = {}
    for b = current - n + 1, current - 1 do older[#older + 1] = base .. ':' .. b end
    local latest = base .. ':' .. current
    local count
    if #older == 0 or redis.call('EXISTS', unpack(older)) == 0 then
      -- One sketch alone keeps its count cached; a union of several is recounted each time.
      count = redis.call('PFCOUNT', latest)
    else
      older[#older + 1] = latest
      count = redis.call('PFCOUNT', unpack(older))
    end
    if ARGV[i + 4] == '1' then
      local inflight = base .. ':f'
      local held = redis.call('INCR', inflight) - 1
      redis.call('PEXPIRE', inflight, IN_FLIGHT_MS)
      count = count + held
    end
    results[#results + 1] = count
    i = i + 5
  elseif code == 'A' then
    local base, bucket = KEYS[tonumber(ARGV[i + 1])], ARGV[i + 2]
    if ARGV[i + 3] == '1' then
      local inflight = base .. ':f'
      if redis.call('DECR', inflight) <= 0 then redis.call('DEL', inflight) end
    end
    if ARGV[i + 5] == '1' then
      local key = base .. ':' .. bucket
      redis.call('PFADD', key, ARGV[i + 6])
      redis.call('PEXPIRE', key, tonumber(ARGV[i + 4]))
    end
    results[#results + 1] = 0
    i = i + 7
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
