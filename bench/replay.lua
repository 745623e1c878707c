-- replay.lua - wrk script: every request takes the next pre-generated line, none is reused.
--
--   wrk -t1 ... -s bench/replay.lua URL -- FILE MODE PATH STOPPATH [MARKER]
--
-- FILE     lines from ekey_benchgen (fields separated by a TAB), or "-" for MODE plain
-- MODE     plain | ekey-dpop | ekey-mtls | oauth2-dpop | issuer
-- PATH     the request target
-- STOPPATH an unauthenticated static file, asked for by the few connections still sending
--          while the thread stops (never a reused line: that would be a replay)
-- MARKER   a file created when the lines run out, so bench/run.sh can end wrk (SIGINT)
--          instead of waiting for the rest of -d
--
-- Run wrk with one thread (-t1): the line cursor lives in that thread's Lua state. When the
-- lines run out the thread stops. wrk itself always reports the full -d duration, so the
-- thread records when it started and when it ran out (clock_gettime through LuaJIT's FFI),
-- and done() prints the real elapsed time with the figures bench/run.sh reads.

local ffi = require("ffi")
ffi.cdef [[
  typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
  int clock_gettime(int clk, bench_timespec *ts);
]]
local function now_us()
  local ts = ffi.new("bench_timespec")
  ffi.C.clock_gettime(1, ts)                  -- CLOCK_MONOTONIC
  return tonumber(ts.tv_sec) * 1e6 + tonumber(ts.tv_nsec) / 1e3
end

local threads = {}
function setup(thread)
  table.insert(threads, thread)
end

local lines, idx, n = {}, 0, 0
local mode, path, stop, marker
local plain_req
t_start, t_end = 0, 0                         -- globals: read by done() through thread:get

local function build(line)
  local a, b = line:match("^([^\t]*)\t?(.*)$")
  if mode == "ekey-dpop" then
    return wrk.format("GET", path, { ["Authorization"] = "EKey " .. a, ["DPoP"] = b })
  elseif mode == "ekey-mtls" then
    return wrk.format("GET", path, { ["Authorization"] = "EKey " .. a })
  elseif mode == "oauth2-dpop" then
    return wrk.format("GET", path, { ["Authorization"] = "DPoP " .. a, ["DPoP"] = b })
  elseif mode == "issuer" then
    local h = { ["Content-Type"] = "application/json" }
    if b ~= nil and b ~= "" and b ~= "-" then h["DPoP"] = b end
    return wrk.format("POST", path, h, a)
  end
  error("unknown mode " .. tostring(mode))
end

function init(args)
  local file = args[1]
  mode, path, stop, marker = args[2], args[3], args[4] or "/static.txt", args[5]
  if mode == "plain" then
    plain_req = wrk.format("GET", path)
  else
    for l in io.lines(file) do
      if l ~= "" then
        n = n + 1
        lines[n] = l
      end
    end
  end
  t_start = now_us()
end

function request()
  if mode == "plain" then
    return plain_req
  end
  idx = idx + 1
  if idx > n then
    if t_end == 0 then
      t_end = now_us()
      if marker ~= nil then
        local f = io.open(marker, "w")
        if f ~= nil then f:close() end
      end
    end
    wrk.thread:stop()
    return wrk.format("GET", stop)
  end
  return build(lines[idx])
end

function done(summary, latency, requests)
  local e = summary.errors
  local elapsed = summary.duration
  local t = threads[1]
  if t ~= nil and t:get("t_end") ~= 0 then
    elapsed = t:get("t_end") - t:get("t_start")
  end
  io.write(string.format(
    "BENCH requests=%d duration_us=%d exhausted=%d status_errors=%d connect=%d read=%d " ..
    "write=%d timeout=%d p50_us=%d p90_us=%d p99_us=%d max_us=%d mean_us=%.0f\n",
    summary.requests, elapsed, (t ~= nil and t:get("t_end") ~= 0) and 1 or 0, e.status,
    e.connect, e.read, e.write, e.timeout, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, latency.mean))
end
