-- wrk script for benchmarks/overhead.py: Chrome 131 on Windows reading resume pages,
-- as many clients behind one trusted proxy.
--
--   wrk -t1 -c16 -d8s --latency -s benchmarks/wrk_resumes.lua http://127.0.0.1:PORT -- N C
--
-- N: resumes the demo serves (ids 100000 .. 100000+N-1, default 10000).
-- C: simulated clients (default 10000). Each request picks a client and a resume at random
--    (seeded, so runs repeat). A client is an address in 198.18.0.0/15, the range RFC 2544
--    sets aside for benchmarks, sent in X-Forwarded-For: the server trusts 127.0.0.1 as a
--    proxy (benchmarks/bench.toml), so the guard keeps per-IP, per-/24 and per-client state
--    for each of them as it would for real traffic. Clients spread over 256 /24 networks.
--
-- Every response is counted: done() prints "bench: ..." lines that overhead.py reads, so a
-- run in which the guard refused anything (403, 429, 503) is reported as invalid.

local FIRST_ID = 100000

local threads = {}

function setup(thread)
   thread:set("thread_index", #threads)
   table.insert(threads, thread)
end

local resumes = 10000
local clients = 10000
local addresses = {}
local prefix = ""
local suffix = ""

local function address(c)
   local second = 18 + math.floor(c / (256 * 254)) % 2
   local third = c % 256
   local fourth = math.floor(c / 256) % 254 + 1
   return string.format("198.%d.%d.%d", second, third, fourth)
end

function init(args)
   resumes = tonumber(args[1]) or resumes
   clients = tonumber(args[2]) or clients
   math.randomseed(20241122 + (thread_index or 0))
   for c = 0, clients - 1 do
      addresses[c] = address(c)
   end
   -- Globals, so that done() can read them from each thread.
   responses = 0
   non2xx = 0
   statuses = {}
   local host = wrk.headers["Host"]
   local origin = wrk.scheme .. "://" .. host
   -- Chrome's own header order for a same-origin navigation; the proxy appends its own.
   prefix = "Host: " .. host .. "\r\n"
      .. 'sec-ch-ua: "Google Chrome";v="131", "Chromium";v="131", "Not_A Brand";v="24"\r\n'
      .. "sec-ch-ua-mobile: ?0\r\n"
      .. 'sec-ch-ua-platform: "Windows"\r\n'
      .. "Upgrade-Insecure-Requests: 1\r\n"
      .. "User-Agent: Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36"
      .. " (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36\r\n"
      .. "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,"
      .. "image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7\r\n"
      .. "Sec-Fetch-Site: same-origin\r\n"
      .. "Sec-Fetch-Mode: navigate\r\n"
      .. "Sec-Fetch-User: ?1\r\n"
      .. "Sec-Fetch-Dest: document\r\n"
      .. "Referer: " .. origin .. "/resumes\r\n"
      .. "Accept-Encoding: gzip, deflate, br, zstd\r\n"
      .. "Accept-Language: en-US,en;q=0.9\r\n"
      .. "Priority: u=0, i\r\n"
      .. "X-Forwarded-For: "
   suffix = "\r\nX-Forwarded-Proto: https\r\n\r\n"
end

function request()
   local id = FIRST_ID + math.random(0, resumes - 1)
   local client = addresses[math.random(0, clients - 1)]
   return "GET /resume/" .. id .. " HTTP/1.1\r\n" .. prefix .. client .. suffix
end

function response(status, headers, body)
   responses = responses + 1
   if status < 200 or status > 299 then
      non2xx = non2xx + 1
      statuses[status] = (statuses[status] or 0) + 1
   end
end

function done(summary, latency, requests)
   local total, refused, by_status = 0, 0, {}
   for _, thread in ipairs(threads) do
      total = total + (thread:get("responses") or 0)
      refused = refused + (thread:get("non2xx") or 0)
      for status, count in pairs(thread:get("statuses") or {}) do
         by_status[status] = (by_status[status] or 0) + count
      end
   end
   local e = summary.errors
   io.write(string.format(
      "bench: responses=%d non2xx=%d connect=%d read=%d write=%d timeout=%d\n",
      total, refused, e.connect, e.read, e.write, e.timeout))
   for status, count in pairs(by_status) do
      io.write(string.format("bench: non2xx_status %d %d\n", status, count))
   end
end
