-- soak.lua - wrk script for bench/soak.sh: every request takes the next pre-generated line
-- (never reused: the server sees each token and proof as often as the line file says) and
-- each connection waits DELAY ms between its requests, so the rate stays under the target.
--
--   wrk -t1 -cC -d D -s bench/soak.lua URL -- FILE DELAY_MS
--
-- FILE lines: TARGET \t TOKEN \t PROOF (TARGET is a path with an optional query; TOKEN "-"
-- sends no credentials). One thread (-t1): the line cursor lives in its Lua state. When the
-- lines run out the thread stops and done() says so (soak.sh then fails: too few lines).
local lines, idx, n, delay_ms = {}, 0, 0, 0
ran_out = 0                                   -- global: read by done() through thread:get

local threads = {}
function setup(thread) table.insert(threads, thread) end

function init(args)
  for l in io.lines(args[1]) do
    if l ~= "" then n = n + 1; lines[n] = l end
  end
  delay_ms = tonumber(args[2]) or 0
end

function delay() return delay_ms end

function request()
  idx = idx + 1
  if idx > n then
    ran_out = 1
    wrk.thread:stop()
    return wrk.format("GET", "/static.txt")
  end
  local target, tok, proof = lines[idx]:match("^([^\t]*)\t([^\t]*)\t?(.*)$")
  local h = {}
  if tok ~= "-" then h["Authorization"] = "EKey " .. tok end
  if proof ~= nil and proof ~= "" then h["DPoP"] = proof end
  return wrk.format("GET", target, h)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("soak-wrk: requests=%d duration_s=%.1f connect=%d read=%d write=%d timeout=%d non2xx=%d ran_out=%d p99_ms=%.1f\n",
    summary.requests, summary.duration / 1e6, e.connect, e.read, e.write, e.timeout, e.status,
    threads[1] and threads[1]:get("ran_out") or 0, latency:percentile(99) / 1e3))
end
