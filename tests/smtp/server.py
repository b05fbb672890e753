"""A real SMTP server on loopback for the notification tests (aiosmtpd from PyPI).

Usage: server.py PORT DIR. Every message received is parsed with Python's email
package and written to DIR as <n>.json: envelope sender and recipients, subject and
the decoded plain-text body, so a test can check what was sent without parsing MIME.
Prints "ready" once it listens.
"""

import json
import pathlib
import sys
import time
from email import message_from_bytes, policy

from aiosmtpd.controller import Controller


class Recorder:
    def __init__(self, folder: pathlib.Path):
        self.folder = folder
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        message = message_from_bytes(envelope.original_content, policy=policy.default)
        body = message.get_body(preferencelist=("plain",))
        self.count += 1
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "from": str(message["From"]),
            "subject": str(message["Subject"]),
            "text": body.get_content() if body else "",
            "raw": envelope.original_content.decode("utf-8", "replace"),
        }
        target = self.folder / f"{self.count}.json"
        partial = self.folder / f".{self.count}.part"
        partial.write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
        partial.rename(target)
        return "250 Message accepted for delivery"


def main() -> None:
    port = int(sys.argv[1])
    folder = pathlib.Path(sys.argv[2])
    folder.mkdir(parents=True, exist_ok=True)
    controller = Controller(Recorder(folder), hostname="127.0.0.1", port=port)
    controller.start()
    print("ready", flush=True)
    try:
        while True:
            time.sleep(3600)
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
