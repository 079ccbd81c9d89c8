"""Starting the bundled mock provider (otp-mock) from Python: the end-to-end
tests and the benchmark use it the same way."""

import os
import ssl
import subprocess
import time


class MockProcess:
    """otp-mock on 127.0.0.1 with a CA made now in PKI_DIR: its URL and CA file."""

    def __init__(self, mock_path, pki_dir):
        self.pki = pki_dir
        self.proc = subprocess.Popen([mock_path, "--pki-dir", pki_dir],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        port_file = os.path.join(pki_dir, "port")
        port = ""
        for _ in range(200):  # it writes the port once it listens
            if os.path.exists(port_file):
                with open(port_file) as f:
                    port = f.read().strip()
            if port:
                break
            time.sleep(0.05)
        if not port:
            self.stop()
            raise RuntimeError(f"{mock_path} did not start (no {port_file} after 10 s)")
        self.port = int(port)
        self.url = f"https://127.0.0.1:{port}"
        self.ca = os.path.join(pki_dir, "ca.pem")
        self.context = ssl.create_default_context(cafile=self.ca)

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)
