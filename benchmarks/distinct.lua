-- wrk script: every request a SPARQL query not sent before (see benchmarks/workload.py).
-- wrk -t THREADS -s distinct.lua URL -- QUERIES KINDS STRIPE STRIPES THREADS SLOTS SEED
--   QUERIES  lines "KIND<TAB>URL-encoded query text up to its LIMIT value"
--   KINDS    the kinds to draw from, comma-separated, each equally likely
-- Each request: a kind, an item of that kind, and
--   LIMIT = 1 + STRIPE + STRIPES * (thread + THREADS * slot)
-- with the slot drawn from 0..SLOTS-1, never twice for one item in a thread (then SLOTS,
-- SLOTS+1...), so that runs with their own STRIPE never repeat a request to a server.

local next_thread = 0

function setup(thread)
  thread:set("thread_index", next_thread)
  next_thread = next_thread + 1
end

local kinds, used, first, step, SLOTS

function init(args)
  local wanted, by_name = {}, {}
  for name in args[2]:gmatch("[^,]+") do
    wanted[name] = true
  end
  kinds = {}
  for line in io.lines(args[1]) do
    local name, prefix = line:match("^([^\t]+)\t(.*)$")
    if wanted[name] then
      if not by_name[name] then
        by_name[name] = {}
        kinds[#kinds + 1] = by_name[name]
      end
      table.insert(by_name[name], prefix)
    end
  end
  local stripe, stripes, threads = tonumber(args[3]), tonumber(args[4]), tonumber(args[5])
  first = 1 + stripe + stripes * thread_index
  step = stripes * threads
  SLOTS = tonumber(args[6])
  math.randomseed(tonumber(args[7]) + 7919 * (stripe * threads + thread_index))
  used = {}
end

function request()
  local kind = kinds[math.random(#kinds)]
  local prefix = kind[math.random(#kind)]
  local slots = used[prefix]
  if not slots then
    slots = { n = 0 }
    used[prefix] = slots
  end
  local slot
  if slots.n < SLOTS then
    slot = math.random(SLOTS) - 1
    while slots[slot] do
      slot = (slot + 1) % SLOTS
    end
  else
    slot = slots.n
  end
  slots[slot] = true
  slots.n = slots.n + 1
  return wrk.format(nil, wrk.path .. "?query=" .. prefix .. (first + step * slot))
end
