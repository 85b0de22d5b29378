-- Analytics answers are cached per window: every request asks for another window of the same
-- length, `span` seconds ending `step` seconds earlier than the one before, so none is cached.
-- Arguments after `--`: path, end of the first window (epoch seconds), windows, step, span, threads.
local path, first_end, windows, step, span, stride
local counter = 0
local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("offset", #threads - 1)
end

local function iso(t)
  return os.date("!%Y-%m-%dT%H:%M:%SZ", t)
end

function init(args)
  path = args[1]
  first_end = tonumber(args[2])
  windows = tonumber(args[3])
  step = tonumber(args[4])
  span = tonumber(args[5])
  stride = tonumber(args[6])
end

function request()
  local k = (offset + counter * stride) % windows
  counter = counter + 1
  local window_end = first_end - k * step
  local separator = path:find("?", 1, true) and "&" or "?"
  return wrk.format(nil, path .. separator .. "from=" .. iso(window_end - span) .. "&to=" .. iso(window_end))
end
