-- The Remind-me rush, for wrk (run by benchmarks/rush.py, which sets these variables):
--
--   RUSH_PORTS     comma-separated ports on 127.0.0.1; thread k talks to port k mod n
--   RUSH_PREFIX    shopper i's bearer token is RUSH_PREFIX .. i (i = 1 .. RUSH_SHOPPERS)
--   RUSH_SHOPPERS  how many shoppers
--   RUSH_DROPS     comma-separated drop ids
--   RUSH_THREADS   wrk's -t (each thread owns the shoppers i with i mod threads = its index)
--   RUSH_OUT       where done() writes its figures as JSON
--   RUSH_BODY      the body of each Remind me (JSON, e.g. {"offsets":[3600,900]}); empty:
--                  none (the default lead)
--
-- Each request is one shopper tapping Remind me on a random drop, or taking it back:
-- per (shopper, drop) the taps alternate remind, unremind, remind, ...

local function split(s)
  local out = {}
  for part in string.gmatch(s or "", "[^,]+") do out[#out + 1] = tonumber(part) end
  return out
end

local ports = split(os.getenv("RUSH_PORTS"))
local drops = split(os.getenv("RUSH_DROPS"))
local prefix = os.getenv("RUSH_PREFIX")
local shoppers = tonumber(os.getenv("RUSH_SHOPPERS"))
local nthreads = tonumber(os.getenv("RUSH_THREADS"))
local body = os.getenv("RUSH_BODY") or ""

local threads = {}

function setup(thread)
  local index = #threads
  thread.addr = wrk.lookup("127.0.0.1", tostring(ports[index % #ports + 1]))[1]
  thread:set("index", index)
  threads[#threads + 1] = thread
end

function init(args)
  math.randomseed(os.time() * 100 + index)
  mine = {}
  for i = 1 + index, shoppers, nthreads do mine[#mine + 1] = i end
  on = {}        -- (shopper, drop) -> the next tap is a remind?
  cache = {}     -- prebuilt requests
  ok, non2xx, codes = 0, 0, {}
end

function request()
  local shopper = mine[math.random(#mine)]
  local d = math.random(#drops)
  local key = shopper * 64 + d
  local remind = on[key] ~= false
  on[key] = not remind
  local ckey = key * 2 + (remind and 1 or 0)
  local req = cache[ckey]
  if req == nil then
    local path = "/api/v1/drops/" .. drops[d] .. (remind and "/remind" or "/unremind")
    local headers = { ["Authorization"] = "Bearer " .. prefix .. shopper }
    local sent = ""
    if remind and body ~= "" then
      headers["Content-Type"] = "application/json"
      sent = body
    end
    req = wrk.format("POST", path, headers, sent)
    cache[ckey] = req
  end
  return req
end

function response(status, headers, body)
  if status >= 200 and status < 300 then
    ok = ok + 1
  else
    non2xx = non2xx + 1
    codes[status] = (codes[status] or 0) + 1
  end
end

-- Quantiles dumped for merging runs (0.5 % steps, then 0.1 % steps from p99).
local function quantiles(latency)
  local qs = {}
  for step = 1, 197 do qs[#qs + 1] = step * 0.5 end
  for step = 0, 9 do qs[#qs + 1] = 99.0 + step * 0.1 end
  qs[#qs + 1] = 99.95
  qs[#qs + 1] = 99.99
  local out = {}
  for _, q in ipairs(qs) do
    out[#out + 1] = string.format("[%.2f, %d]", q, latency:percentile(q))
  end
  out[#out + 1] = string.format("[100.00, %d]", latency.max)
  return "[" .. table.concat(out, ", ") .. "]"
end

function done(summary, latency, requests)
  local non2xx_total, ok_total, code_parts, merged = 0, 0, {}, {}
  for _, thread in ipairs(threads) do
    ok_total = ok_total + thread:get("ok")
    non2xx_total = non2xx_total + thread:get("non2xx")
    for status, n in pairs(thread:get("codes")) do
      merged[status] = (merged[status] or 0) + n
    end
  end
  for status, n in pairs(merged) do
    code_parts[#code_parts + 1] = string.format('"%d": %d', status, n)
  end
  local e = summary.errors
  local f = assert(io.open(os.getenv("RUSH_OUT"), "w"))
  f:write(string.format(
    '{"duration_us": %d, "requests": %d, "ok": %d, "non2xx": %d, "codes": {%s}, '
      .. '"connect": %d, "read": %d, "write": %d, "timeout": %d, "status_errors": %d, '
      .. '"mean_us": %.1f, "quantiles": %s}\n',
    summary.duration, summary.requests, ok_total, non2xx_total, table.concat(code_parts, ", "),
    e.connect, e.read, e.write, e.timeout, e.status, latency.mean, quantiles(latency)))
  f:close()
end
