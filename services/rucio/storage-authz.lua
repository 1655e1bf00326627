-- Storage of the local Rucio deployment (webdav.conf): who may do what, by Rucio account and
-- path, as a data lake's storage authorises its users. The account is the common name of a
-- client certificate the site CA signed (root, and every account: X.509 / userpass sessions),
-- or, for a bearer token mod_auth_openidc accepted (issuer, audience, signature, expiry), the
-- account its subject is mapped to in ${STORAGE_FILES}/token-accounts.map ("<sub> <account>"
-- lines, written by hubimages/services/rucio/storage.py). Any account may read (GET, HEAD,
-- PROPFIND, OPTIONS); an account writes only under its own scope's folder (scope user.<name>
-- is /user/<name>/ with Rucio's hash and identity path algorithms), and so does a MOVE's or
-- COPY's destination; root writes anywhere. Nobody else gets in.
require "apache2"

local READS = { GET = true, HEAD = true, PROPFIND = true, OPTIONS = true }
local ADMIN = "root"

local function token_account(r, sub)
  local map = io.open(os.getenv("STORAGE_FILES") .. "/token-accounts.map", "r")
  if not map then return nil end
  for line in map:lines() do
    local s, account = line:match("^(%S+)%s+(%S+)$")
    if s == sub then
      map:close()
      return account
    end
  end
  map:close()
  return nil
end

local function bearer(r)
  return (r.headers_in["Authorization"] or ""):match("^[Bb]earer ") ~= nil
end

local function account_of(r)
  if bearer(r) then
    -- r.user is the token's subject, once mod_auth_openidc has checked the token.
    if r.user and r.user ~= "" then return token_account(r, r.user) end
    return nil
  end
  if r:ssl_var_lookup("SSL_CLIENT_VERIFY") == "SUCCESS" then
    return r:ssl_var_lookup("SSL_CLIENT_S_DN_CN")
  end
  return nil
end

local function path_of(uri)
  -- Destination headers are whole URLs; the path is what counts.
  local path = uri:gsub("^%a[%w+.-]*://[^/]*", "")
  return path:gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end)
end

local function may_write(account, uri)
  if account == ADMIN then return true end
  local path = path_of(uri)
  if path:find("/%.%.?/") or path:find("/%.%.?$") then return false end
  local own = "/user/" .. account .. "/"
  return path:sub(1, #own) == own
end

function authorize(r)
  if bearer(r) and not r.user then
    return apache2.AUTHZ_DENIED_NO_USER  -- let mod_auth_openidc check the token, then ask again
  end
  local account = account_of(r)
  if not account or account == "" then
    return apache2.AUTHZ_DENIED
  end
  r.notes["rucio-account"] = account
  if READS[r.method] then
    return apache2.AUTHZ_GRANTED
  end
  if not may_write(account, r.uri) then
    return apache2.AUTHZ_DENIED
  end
  local destination = r.headers_in["Destination"]
  if destination and not may_write(account, destination) then
    return apache2.AUTHZ_DENIED
  end
  return apache2.AUTHZ_GRANTED
end
