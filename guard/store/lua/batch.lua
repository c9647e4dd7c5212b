-- One request's store operations, run atomically in one round trip.
--
-- ARGV[1] is a MessagePack array: the caller's clock (seconds), then each operation as a
-- code and its arguments. An operation names its key as an index into the key starts and
-- a suffix: the key is start .. suffix (the starts are each actor's hash-tagged prefix, once,
-- so a call is short). The starts are KEYS; on a cluster, where a script's KEYS must share
-- a slot, a call declares its first start (which routes it to the node) and the rest follow
-- as ARGV[2], ARGV[3], ...: a script may reach keys of other slots held by its own node. The
-- reply is one MessagePack array, a result per operation; floats keep their fractions in it.
--
--   R k s limit period cost      GCRA rate limit   -> {allowed, remaining, reset_after, retry_after}
--                                A cost below 0 is one step, taking -cost steps at once while
--                                at least MARGIN steps would be left after them, for the
--                                caller's next hits; it answers as one step would, then the
--                                steps taken: {allowed, remaining, reset_after, retry_after, n}
--   S k s limit period steps     give back steps taken ahead and never used
--   C k s bucket n reserve limit distinct count over the n buckets of the key up to `bucket`
--                                (HyperLogLogs at key:bucket); reserve = 1 also takes an
--                                in-flight place (key:f) and adds the places others hold
--                                (past DENSE members, an estimate unless the limit is at
--                                most DENSE: see below). With a limit
--                                (> 0), it takes BLOCK places while the count is at least
--                                MARGIN below it, for the caller's next checks, and answers
--                                {count, places taken}; a limit below 0 is -limit, taking one
--                                place only, and answers the same way
--   F k s places                 give back places taken ahead and never used
--   A k s bucket release ttl_ms member
--                                give back the in-flight place (release = 1) and add
--                                member (unless it is false) to key:bucket
--   G k s                        GET   -> value or false
--   P k s ttl_ms value           SET PX
--
-- Bucket and in-flight keys are derived from the key, whose hash tag they share (so on a
-- cluster they live in its slot).
local ops = cmsgpack.unpack(ARGV[1])
local starts = KEYS
if #ARGV > 1 then
  starts = {KEYS[1]}
  for j = 2, #ARGV do starts[j] = ARGV[j] end
end
local now = ops[1]
local results = {}
local i = 2
local IN_FLIGHT_MS = 30000
-- Past DENSE members a sketch's recount costs more than the rest of a call (a dense sketch
-- is recounted after every add that changes it, a union always). A reserving count of such
-- a set is estimated instead (key:n holds the last recount, its latest bucket and the places
-- taken since) until the places since reach the ESTIMATE_SHARE-th part of it (the sketch's
-- own standard error is 0.81%) or the latest bucket changes.
local DENSE = 1024
local ESTIMATE_SHARE = 128
local ESTIMATE_MS = 900000
-- Places taken at once for a worker's next checks of a budget, and how far below its limit
-- the count must be: near the limit every check takes its own place, as if no worker kept
-- any, so a budget refuses at exactly its limit there.
local BLOCK = 8
local MARGIN = 4 * BLOCK

-- Give back n of the in-flight places on the set at key (the counter goes when none is left).
local function give_back(key, n)
  local inflight = key .. ':f'
  if redis.call('DECRBY', inflight, n) <= 0 then redis.call('DEL', inflight) end
end

-- A rate limit's theoretical arrival time as text, with every digit Lua prints (%.17g keeps
-- a double exact).
local function as_text(tat)
  return string.format('%.17g', tat)
end

-- Keep a rate limit's theoretical arrival time at key until it passes. A huge limit's step
-- can vanish in the float; PX must still be at least 1.
local function set_time(key, tat, now)
  redis.call('SET', key, as_text(tat), 'PX', math.max(math.ceil((tat - now) * 1000), 1))
end

-- The distinct count of the n buckets of key up to current.
local function recount(key, current, n)
  local older = {}
  for b = current - n + 1, current - 1 do older[#older + 1] = key .. ':' .. b end
  local latest = key .. ':' .. current
  if #older == 0 or redis.call('EXISTS', unpack(older)) == 0 then
    -- One sketch alone keeps its count cached; a union of several is recounted each time.
    return redis.call('PFCOUNT', latest)
  end
  older[#older + 1] = latest
  return redis.call('PFCOUNT', unpack(older))
end

while i <= #ops do
  local code = ops[i]
  local key = starts[ops[i + 1]] .. ops[i + 2]
  if code == 'R' then
    local limit, period, cost = ops[i + 3], ops[i + 4], ops[i + 5]
    local block = 0
    if cost < 0 then block, cost = -cost, 1 end
    local interval = period / limit
    local tat = tonumber(redis.call('GET', key)) or now
    if tat < now then tat = now end
    local new_tat = tat + interval * cost
    local allow_at = new_tat - period
    if now < allow_at then
      results[#results + 1] = {0, 0, tat - now, allow_at - now}
      if block > 0 then results[#results][5] = 0 end
    else
      local take, stored = 1, new_tat
      if block > 1 then
        local blocked = tat + interval * block
        if math.floor((period - (blocked - now)) / interval + 1e-9) >= MARGIN then
          take, stored = block, blocked
        end
      end
      set_time(key, stored, now)
      local remaining = math.floor((period - (new_tat - now)) / interval + 1e-9)
      if remaining < 0 then remaining = 0 end
      results[#results + 1] = {1, remaining, new_tat - now, 0}
      if block > 0 then results[#results][5] = take end
    end
    i = i + 6
  elseif code == 'S' then
    -- Steps back from whatever the others have taken since. The key keeps its expiry (set
    -- by the last step, so no sooner than needed); a time gone past reads as none, so this
    -- needs no clock of its own (a held write's call may carry another caller's).
    local tat = tonumber(redis.call('GET', key))
    if tat then
      redis.call('SET', key, as_text(tat - ops[i + 4] / ops[i + 3] * ops[i + 5]), 'KEEPTTL')
    end
    results[#results + 1] = 0
    i = i + 6
  elseif code == 'C' then
    local current, n, limit = ops[i + 3], ops[i + 4], ops[i + 6]
    local ahead = limit > 0  -- a negative limit: the caller wants one place, not a block
    if limit < 0 then limit = -limit end
    local count
    if ops[i + 5] == 1 then
      local inflight, estimate = key .. ':f', key .. ':n'
      -- A budget whose limit is below DENSE refuses long before its set is dense, so it
      -- keeps no estimate (and need not look for one).
      local dense = limit == 0 or limit > DENSE
      local seen = dense and redis.call('HMGET', estimate, 'b', 'c', 'r') or {}
      local counted, since = tonumber(seen[2]), tonumber(seen[3])
      local take = 1
      if dense and tonumber(seen[1]) == current and since < counted / ESTIMATE_SHARE then
        -- Every member of a reserved set comes in through a place taken here, so the last
        -- recount plus the places held then and taken since stands in for a recount and
        -- the places now held: over by the places that added nothing, short only as far
        -- as the sketch itself wanders.
        count = counted + since
        if ahead and count + MARGIN <= limit then take = BLOCK end
        redis.call('INCRBY', inflight, take)
        redis.call('HINCRBY', estimate, 'r', take)
      else
        local exact = recount(key, current, n)
        if ahead and exact + MARGIN <= limit then take = BLOCK end
        local held = redis.call('INCRBY', inflight, take) - take
        count = exact + held
        if take > 1 and count + MARGIN > limit then
          redis.call('DECRBY', inflight, take - 1)  -- others' places bring it near the limit
          take = 1
        end
        if exact >= DENSE and dense then
          redis.call('HSET', estimate, 'b', current, 'c', exact, 'r', held + take)
          redis.call('PEXPIRE', estimate, ESTIMATE_MS)
        elseif exact >= DENSE then
          -- The limit came down past the set (a change of config): an estimate made before
          -- misses the places taken since, so it must not outlive this recount.
          redis.call('DEL', estimate)
        end
      end
      redis.call('PEXPIRE', inflight, IN_FLIGHT_MS)
      if limit > 0 then count = {count, take} end
    else
      count = recount(key, current, n)
    end
    results[#results + 1] = count
    i = i + 7
  elseif code == 'A' then
    if ops[i + 4] == 1 then give_back(key, 1) end
    local member = ops[i + 6]
    if member then
      local bucket = key .. ':' .. ops[i + 3]
      -- An unchanged sketch exists already, so it has its TTL (set when it was made; every
      -- add to one bucket asks for the same moment of expiry), and any estimate still holds.
      if redis.call('PFADD', bucket, member) == 1 then
        redis.call('PEXPIRE', bucket, ops[i + 5])
        if ops[i + 4] ~= 1 then
          redis.call('DEL', key .. ':n')  -- a member that took no place: the estimate is off
        end
      end
    end
    results[#results + 1] = 0
    i = i + 7
  elseif code == 'F' then
    give_back(key, ops[i + 3])
    results[#results + 1] = 0
    i = i + 4
  elseif code == 'G' then
    results[#results + 1] = redis.call('GET', key)
    i = i + 3
  elseif code == 'P' then
    redis.call('SET', key, ops[i + 4], 'PX', ops[i + 3])
    results[#results + 1] = 0
    i = i + 5
  else
    return redis.error_reply('guard: unknown store operation ' .. tostring(code))
  end
end
return cmsgpack.pack(results)
