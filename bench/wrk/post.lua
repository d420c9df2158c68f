-- wrk script of the benchmark (bench/README.md): POST with a ~200 B JSON body and a real
-- ES256 JWT in Authorization, cycling through the tokens of BENCH_TOKENS (one per line, a
-- `sub` each, so canary stickiness sees many users). BENCH_BODY=completion (default) posts
-- /v1/completions; BENCH_BODY=chat posts /v1/chat/completions, one request in four with a
-- ~1.5 KB prompt above the size threshold (scenario 4). BENCH_PREFIX prefixes the path.
-- Requests are formatted once in init(): the load generator should cost as little as it can.

local completion = '{"model":"bench","prompt":"Write a haiku about reverse proxies, ' ..
  'load balancing and the quiet joy of a low tail latency in production.",' ..
  '"max_tokens":16,"temperature":0.7,"user":"bench"}'

local function chat(words)
  return '{"model":"bench","max_tokens":16,"messages":[{"role":"user","content":"' ..
    string.rep("tell me more about proxies ", words) .. '"}]}'
end

local requests = {}
local n = 0

function init(args)
  local tokens = {}
  for line in io.lines(os.getenv("BENCH_TOKENS")) do tokens[#tokens + 1] = line end
  local prefix = os.getenv("BENCH_PREFIX") or ""
  local kind = os.getenv("BENCH_BODY") or "completion"
  for i, token in ipairs(tokens) do
    local headers = {["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. token}
    if kind == "chat" then
      local body = (i % 4 == 0) and chat(60) or chat(5)
      requests[i] = wrk.format("POST", prefix .. "/v1/chat/completions", headers, body)
    else
      requests[i] = wrk.format("POST", prefix .. "/v1/completions", headers, completion)
    end
  end
end

function request()
  n = n % #requests + 1
  return requests[n]
end

-- One line the driver parses; latencies in microseconds.
function done(summary, latency, _)
  local e = summary.errors
  io.write(string.format("RESULT rps %.1f p50_us %d p99_us %d requests %d errors %d non2xx %d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50),
    latency:percentile(99), summary.requests, e.connect + e.read + e.write + e.timeout,
    e.status))
end
