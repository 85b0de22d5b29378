-- wrk script: each thread cycles through its own slice of pre-signed WhatsApp notifications.
-- The bodies file is written by bench/ingest/run.py: one line per request, "<signature>\t<body>".
local threads = {}
local counter = 1

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  local path = args[1]
  nthreads = tonumber(args[2])
  bodies = {}
  signatures = {}
  local index = 0
  for line in io.lines(path) do
    if index % nthreads == (id - 1) then
      local tab = string.find(line, "\t", 1, true)
      table.insert(signatures, string.sub(line, 1, tab - 1))
      table.insert(bodies, string.sub(line, tab + 1))
    end
    index = index + 1
  end
  position = 0
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
end

function request()
  position = position + 1
  if position > #bodies then
    position = 1
  end
  wrk.headers["X-Hub-Signature-256"] = signatures[position]
  return wrk.format(nil, "/webhooks/whatsapp", nil, bodies[position])
end
