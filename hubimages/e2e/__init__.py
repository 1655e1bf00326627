"""`invoke e2e`: a scientist's session in a real browser, from hub login to stopping the server."""
