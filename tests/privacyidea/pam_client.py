"""One login through libpam (pam_start, pam_authenticate, pam_end) as an
application would run it, with a scripted conversation. Run it under
pam_wrapper and nss_wrapper (LD_PRELOAD): the module's syslog lines then go
to stderr, apart from the conversation, which is printed on stdout as JSON:

    {"status": "PAM_SUCCESS", "conversation": [["prompt", "Code sent to ..."], ["error", "..."]]}

    python3 pam_client.py SERVICE USER SCRIPT_JSON

SCRIPT_JSON is the list of answers to the prompts, in order: a string is
typed as it is; {"code_to": DEST, "sms_log": F, "mail_log": F} types the
newest code privacyIDEA's message sinks delivered to DEST since the login
began (waiting up to 20 s for one), {"wrong": true} changes its last digit,
{"sleep": S} waits S seconds first. Past the end of the list the
conversation fails (PAM_CONV_ERR), as end of input does."""
import ctypes
import ctypes.util
import json
import os
import re
import sys
import time

PAM_PROMPT_ECHO_OFF, PAM_PROMPT_ECHO_ON, PAM_ERROR_MSG, PAM_TEXT_INFO = 1, 2, 3, 4
KINDS = {PAM_PROMPT_ECHO_OFF: "prompt", PAM_PROMPT_ECHO_ON: "prompt_echo", PAM_ERROR_MSG: "error", PAM_TEXT_INFO: "info"}
NAMES = {0: "PAM_SUCCESS", 3: "PAM_SERVICE_ERR", 7: "PAM_AUTH_ERR", 9: "PAM_AUTHINFO_UNAVAIL",
         10: "PAM_USER_UNKNOWN", 11: "PAM_MAXTRIES", 19: "PAM_CONV_ERR", 25: "PAM_IGNORE"}


class Message(ctypes.Structure):
    _fields_ = [("msg_style", ctypes.c_int), ("msg", ctypes.c_char_p)]


class Response(ctypes.Structure):
    _fields_ = [("resp", ctypes.c_void_p), ("resp_retcode", ctypes.c_int)]


CONV_FUNC = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_int, ctypes.POINTER(ctypes.POINTER(Message)),
                             ctypes.POINTER(ctypes.POINTER(Response)), ctypes.c_void_p)


class Conv(ctypes.Structure):
    _fields_ = [("conv", CONV_FUNC), ("appdata_ptr", ctypes.c_void_p)]


def lines(path):
    try:
        with open(path) as f:
            return [json.loads(line) for line in f if line.strip()]
    except FileNotFoundError:
        return []


class Delivered:
    """Codes privacyIDEA's sinks delivered since the login began."""

    def __init__(self):
        self.seen = {}

    def mark(self, path):
        self.seen[path] = len(lines(path))

    def newest(self, item, timeout=20):
        dest = item["code_to"]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for path in (item.get("sms_log"), item.get("mail_log")):
                if not path:
                    continue
                fresh = lines(path)[self.seen.get(path, 0):]
                for entry in reversed(fresh):
                    to = entry.get("form", {}).get("phone") or ",".join(entry.get("to", []))
                    text = entry.get("form", {}).get("text") or entry.get("body", "")
                    found = re.search(r"\b(\d{6})\b", text or "")
                    if dest in (to or "") and found:
                        return found.group(1)
            time.sleep(0.05)
        raise RuntimeError(f"no code delivered to {dest}")


def main():
    service, user, script = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
    libc = ctypes.CDLL(ctypes.util.find_library("c"))
    libc.calloc.restype = ctypes.c_void_p
    libc.strdup.restype = ctypes.c_void_p
    libc.strdup.argtypes = [ctypes.c_char_p]
    # Through the global namespace, where the preloaded pam_wrapper's
    # pam_start comes first: a handle of libpam.so.0 itself would bypass it
    # and read the machine's /etc/pam.d.
    if "pam_wrapper" not in os.environ.get("LD_PRELOAD", "") or os.environ.get("PAM_WRAPPER") != "1":
        sys.exit("pam_client.py runs only under pam_wrapper (LD_PRELOAD=libpam_wrapper.so PAM_WRAPPER=1)")
    pam = ctypes.CDLL(None)
    pam.pam_start.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.POINTER(Conv), ctypes.POINTER(ctypes.c_void_p)]
    pam.pam_authenticate.argtypes = [ctypes.c_void_p, ctypes.c_int]
    pam.pam_end.argtypes = [ctypes.c_void_p, ctypes.c_int]
    pam.pam_set_item.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p]

    transcript, answers, delivered = [], list(script), Delivered()
    for item in script:
        for key in ("sms_log", "mail_log"):
            if isinstance(item, dict) and item.get(key):
                delivered.mark(item[key])

    def answer_for(item):
        if isinstance(item, str):
            return item
        if item.get("sleep"):
            time.sleep(item["sleep"])
        if "code_to" not in item:
            return item.get("text", "")
        code = delivered.newest(item)
        return code[:-1] + str((int(code[-1]) + 1) % 10) if item.get("wrong") else code

    def conversation(count, messages, responses, _data):
        replies = ctypes.cast(libc.calloc(count, ctypes.sizeof(Response)), ctypes.POINTER(Response))
        for i in range(count):
            style, text = messages[i].contents.msg_style, messages[i].contents.msg.decode(errors="replace")
            transcript.append([KINDS.get(style, str(style)), text])
            if style in (PAM_PROMPT_ECHO_OFF, PAM_PROMPT_ECHO_ON):
                if not answers:
                    return 19  # PAM_CONV_ERR: end of input
                replies[i].resp = libc.strdup(answer_for(answers.pop(0)).encode())
        responses[0] = replies
        return 0

    conv = Conv(CONV_FUNC(conversation), None)
    handle = ctypes.c_void_p()
    status = pam.pam_start(service.encode(), user.encode(), ctypes.byref(conv), ctypes.byref(handle))
    if status == 0:
        status = pam.pam_authenticate(handle, 0)
    pam.pam_end(handle, status)
    print(json.dumps({"status": NAMES.get(status, str(status)), "conversation": transcript}))


if __name__ == "__main__":
    main()
