-- Storage of the local Rucio deployment (webdav.conf): create the missing parent folders of a
-- PUT or MKCOL target, as grid storage (dCache, EOS, StoRM) does. Plain mod_dav answers 409
-- Conflict instead, which Rucio's WebDAV client reads as "file already exists".
require "apache2"

function make_parent_folders(r)
  if (r.method == "PUT" or r.method == "MKCOL") and r.filename then
    -- r.filename stops at the first missing folder; the rest of the path is in r.path_info.
    local target = (r.filename .. (r.path_info or "")):gsub("/+$", "")
    local parent = target:match("^(.*)/[^/]+$")
    if parent and parent ~= "" then
      r:mkrdir(parent)
    end
  end
  return apache2.DECLINED
end
