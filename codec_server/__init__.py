"""The codec server: encodes and decodes Temporal payloads for the Temporal UI and CLI, for callers who
prove who they are (codec_server/auth.py). Its entry point is workers/codec_server.py."""
