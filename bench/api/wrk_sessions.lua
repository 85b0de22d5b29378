-- Each request carries the next of the session cookies given after `--` (one per signed-in
-- person), so the connections share out the people's sessions.
local cookies = {}
local counter = 0

function init(args)
  for index, cookie in ipairs(args) do
    cookies[index] = cookie
  end
end

function request()
  counter = counter % #cookies + 1
  return wrk.format(nil, nil, { ["Cookie"] = cookies[counter] })
end
