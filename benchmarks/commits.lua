-- wrk script: every request a new commit (see benchmarks/writes.py, the sustained phase).
-- wrk -t THREADS -c WRITERS -s commits.lua URL -- BODIES TOKEN THREADS
--   BODIES  a file of SPARQL updates separated by NUL bytes; thread t (from 0) sends the
--           updates t+1, t+1+THREADS, t+1+2*THREADS... each once, and stops the run (an error
--           wrk reports) rather than send one twice.
--   TOKEN   the bearer token of the benchmark's curator

local next_thread = 0

function setup(thread)
  thread:set("thread_index", next_thread)
  next_thread = next_thread + 1
end

local bodies, position, step

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
