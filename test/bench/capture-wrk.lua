-- wrk script for test/bench/make-capture.sh: cycles through the JSON API's routes with many ids,
-- keep-alive (wrk's default), gzip asked for on about half of the requests, a few POSTs with JSON bodies.
-- Usage: wrk ... -s capture-wrk.lua http://api.shop.example -- ORDER_IDS_FILE [SEED] [HOSTS]
-- HOSTS (optional, comma-separated): the Host header goes round these names (several API hosts behind
-- one nginx, so a Kafka topic keyed by host spreads over partitions); the request sequence is unchanged.
-- Deterministic per thread: a Park-Miller generator seeded from SEED and the thread's number picks each request.

local thread_no = 0
function setup(thread)
  thread:set("tid", thread_no)
  thread_no = thread_no + 1
end

local orders = {}
local state = 1
local n = 0
local tokens = { "patq2OPYSYhbaSeQo6qjton3NM27B9LGai45QV-TJvE", "not-a-valid-token", "Zm9vYmFyYmF6cXV4" }
local hosts = {}
local words = { "chair", "lamp", "smart", "coffee", "eco", "keyboard", "bottle", "xyz" }

local function rand(k)
  -- Park-Miller minimal standard generator: products stay below 2^53, so exact in Lua's doubles.
  state = (state * 48271) % 2147483647
  return (state % k) + 1
end

function init(args)
  local f = assert(io.open(args[1], "r"), "order id file missing")
  for line in f:lines() do orders[#orders + 1] = line end
  f:close()
  for h in string.gmatch(args[3] or "", "[^,]+") do hosts[#hosts + 1] = h end
  state = ((tonumber(args[2] or "42") or 42) * 7919 + (tid or 0) * 104729) % 2147483646 + 1
end

local function get(path, gz, extra)
  local h = { ["Accept"] = "application/json", ["User-Agent"] = (gz and "shop-web/2.3" or "shop-batch/1.0") }
  if gz then h["Accept-Encoding"] = "gzip" end
  if extra then for k, v in pairs(extra) do h[k] = v end end
  if #hosts > 0 then h["Host"] = hosts[n % #hosts + 1] end
  return wrk.format("GET", path, h)
end

local function post(path, body)
  local h = { ["Content-Type"] = "application/json", ["User-Agent"] = "shop-mobile/5.1", ["Accept-Encoding"] = "gzip" }
  if #hosts > 0 then h["Host"] = hosts[n % #hosts + 1] end
  return wrk.format("POST", path, h, body)
end

function request()
  n = n + 1
  local gz = (n % 2 == 0)
  local r = rand(100)
  if r <= 22 then return get("/api/v1/users/" .. rand(1000), gz)
  elseif r <= 30 then return get("/api/v1/users?limit=" .. ({ 5, 20, 50, 100, 250 })[rand(5)] .. "&offset=" .. (rand(40) - 1) * 20, gz)
  elseif r <= 42 then return get("/api/v1/orders/" .. orders[rand(#orders)], gz)
  elseif r <= 50 then return get("/api/v1/orders/" .. orders[rand(#orders)] .. "/items", gz)
  elseif r <= 60 then return get("/api/v2/products?page=" .. rand(30) .. "&per_page=" .. ({ 10, 20, 50 })[rand(3)], gz)
  elseif r <= 68 then return get("/api/v2/products/" .. rand(600), gz)
  elseif r <= 72 then return get("/api/v1/accounts/" .. rand(300), gz)
  elseif r <= 77 then return get("/api/v2/accounts/" .. rand(300), gz)
  elseif r <= 81 then return get("/api/v1/search?q=" .. words[rand(#words)], gz)
  elseif r <= 84 then return get("/health", false)
  elseif r <= 87 then return get("/api/v1/users/me", gz, { ["Authorization"] = "Bearer " .. tokens[rand(#tokens)] })
  elseif r <= 91 then
    local pw = ({ "S3cure-Passw0rd!", "wrong-password", "short" })[rand(3)]
    return post("/api/v1/login", '{"username":"user' .. rand(1000) .. '@example.com","password":"' .. pw .. '"}')
  elseif r <= 95 then
    return post("/api/v1/orders", '{"items":[{"sku":"SKU-' .. rand(99999) .. '","qty":' .. rand(5) .. '}]}')
  elseif r <= 96 then return get("/internal/debug", gz)
  else return get("/api/v1/users/" .. (1000 + rand(5000)), gz) -- 404s
  end
end
