#!/usr/bin/env python3
"""A SageMaker-style model server, unmodified: GET /ping and POST /invocations on the port
SageMaker assigns (SAGEMAKER_BIND_TO_PORT, 8080 by default), model from /opt/ml/model.

It serves the linear model that images/train-example/train.py writes: a request body of numbers
(CSV or a JSON list) gets back predictions y = w*x + b, one per line.
"""
import json
import os
import signal
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MODEL_DIR = os.environ.get("SM_MODEL_DIR", os.path.join(os.environ.get("SAGEMAKER_BASE_DIR", "/opt/ml"), "model"))


def load_model():
    with open(os.path.join(MODEL_DIR, "model.json")) as f:
        return json.load(f)


class Handler(BaseHTTPRequestHandler):
    model = None

    def log_message(self, fmt, *args):
        sys.stderr.write("serve: " + fmt % args + "\n")

    def reply(self, code, body, ctype="text/plain"):
        data = body.encode()
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path == "/ping":
            self.reply(200 if self.model else 503, "")
        else:
            self.reply(404, "not found\n")

    def do_POST(self):
        if self.path != "/invocations":
            self.reply(404, "not found\n")
            return
        body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
        try:
            if self.headers.get("Content-Type", "").startswith("application/json"):
                xs = [float(v) for v in json.loads(body)]
            else:
                xs = [float(v) for v in body.replace("\n", ",").split(",") if v.strip()]
        except ValueError as e:
            self.reply(400, "bad input: %s\n" % e)
            return
        w, b = self.model["w"], self.model["b"]
        self.reply(200, "".join("%.6f\n" % (w * x + b) for x in xs), "text/csv")


def main():
    Handler.model = load_model()
    port = int(os.environ.get("SAGEMAKER_BIND_TO_PORT", "8080"))
    server = ThreadingHTTPServer(("0.0.0.0", port), Handler)
    # SageMaker stops endpoints with SIGTERM: leave serve_forever and exit 0.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print("serve: listening on port %d with model %s" % (port, Handler.model), flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
