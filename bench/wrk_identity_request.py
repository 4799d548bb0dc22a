#!/usr/bin/env python3
"""wrk's request for the identity-model benchmarks: the same KServe v2 binary request optic load
sends (1x3x224x224 FP32 zeros, binary output), as DIR/body.bin and DIR/post.lua (wrk -s).

    python3 bench/wrk_identity_request.py DIR
"""
import json
import sys

tmp = sys.argv[1]
n = 3 * 224 * 224 * 4
h = json.dumps({"inputs": [{"name": "input", "shape": [1, 3, 224, 224], "datatype": "FP32",
                            "parameters": {"binary_data_size": n}}],
                "outputs": [{"name": "output", "parameters": {"binary_data": True}}]}).encode()
open(f"{tmp}/body.bin", "wb").write(h + bytes(n))
open(f"{tmp}/post.lua", "w").write(f'''
wrk.method = "POST"
local f = io.open("{tmp}/body.bin", "rb"); wrk.body = f:read("*all"); f:close()
wrk.headers["Inference-Header-Content-Length"] = "{len(h)}"
wrk.headers["Content-Type"] = "application/octet-stream"
''')
