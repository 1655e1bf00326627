"""Facts every layer shares and nothing else owns: files, time, the cache layout, URLs, tools."""
