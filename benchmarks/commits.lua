-- wrk script: every request a new commit (see benchmarks/writes.py, the sustained phase).
-- wrk -t THREADS -c WRITERS -s commits.lua URL -- BODIES TOKEN THREADS [RATE]
--   BODIES  a file of SPARQL updates separated by NUL bytes; thread t (from 0) sends the
--           updates t+1, t+1+THREADS, t+1+2*THREADS... each once, and stops the run (an error
--           wrk reports) rather than send one twice.
--   TOKEN   the bearer token of the benchmark's curator
--   RATE    commits per second of the whole run, on a schedule (each thread RATE/THREADS,
--           a commit that falls behind sent at once, as the readers do); 0 or absent: each
--           connection commits as soon as its last commit is answered

local next_thread = 0

function setup(thread)
  thread:set("thread_index", next_thread)
  next_thread = next_thread + 1
end

local bodies, position, step
local interval_ms, due_ms

local ffi = require("ffi")
ffi.cdef [[
  typedef struct { long tv_sec; long tv_nsec; } diplokg_timespec;
  int clock_gettime(int clock, diplokg_timespec *now);
]]
local now_ts = ffi.new("diplokg_timespec")

local function now_ms()
  ffi.C.clock_gettime(1, now_ts) -- CLOCK_MONOTONIC
  return tonumber(now_ts.tv_sec) * 1000 + tonumber(now_ts.tv_nsec) / 1e6
end

function init(args)
  local file = assert(io.open(args[1], "rb"))
  local data = file:read("*a")
  file:close()
  bodies = {}
  for body in data:gmatch("([^%z]+)") do
    bodies[#bodies + 1] = body
  end
  step = tonumber(args[3])
  position = 1 + thread_index
  wrk.method = "POST"
  wrk.path = "/update"
  wrk.headers["Content-Type"] = "application/sparql-update"
  wrk.headers["Authorization"] = "Bearer " .. args[2]
  local rate = tonumber(args[4] or "0")
  if rate > 0 then
    interval_ms = 1000 * step / rate
    due_ms = now_ms()
  end
end

-- With a RATE, how long the connection waits before its next commit: until the thread's next
-- slot on the schedule (0 when it is late). wrk calls it before every request.
function delay()
  if interval_ms == nil then
    return 0
  end
  due_ms = due_ms + interval_ms
  local wait = due_ms - now_ms()
  if wait < 0 then
    return 0
  end
  return math.floor(wait + 0.5)
end

function request()
  local body = bodies[position]
  if body == nil then
    error("benchmarks/commits.lua: every prepared commit was sent; prepare more")
  end
  position = position + step
  return wrk.format(nil, nil, nil, body)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "commits: requests %d duration_us %d non2xx %d socket %d p50_us %d p95_us %d p99_us %d max_us %d\n",
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max))
end
