#!/usr/bin/python3
"""Peer oracle: botocore (Debian python3-botocore), one long-lived process.

Reads one JSON request per line on stdin, writes one JSON answer per line on
stdout (same order). Request fields are those of tools/sigv4/oracle-request.ts
(`body` as base64, plus `id`). Answer: {id, signature, path, headers,
canonicalRequest, stringToSign} or {id, error}.

botocore is used through its own signer classes (SigV4Auth, SigV4QueryAuth),
with its clock patched to the requested signing time. What this wrapper adds,
and why:
- Flags: botocore ties path normalisation and double encoding together
  (S3 classes do neither). `_normalize_url_path` is overridden to apply
  botocore's own `normalize_url_path` and `quote(..., safe='/~')` independently.
- Query: botocore signs the raw URL query without decoding or re-encoding it
  (`_canonical_query_string_url`); its own serialisers always hand it decoded
  `request.params` instead, which it encodes itself. The wrapper does the same:
  it splits the wire query on `&`/`=` and percent-decodes each part (a `+`
  stays a literal `+`, as AWS specifies).
- sign_body: SigV4Auth never adds `X-Amz-Content-SHA256` (only S3 classes do);
  the wrapper sets it to botocore's own `payload()` before signing.
- omit_session_token: botocore cannot leave the token out of what it signs;
  signing without a token and adding the token afterwards is exactly what
  "omit" means.
Known botocore behaviours the callers must avoid (they are excluded, not
worked around, so that the vectors still show them):
- SigV4QueryAuth moves a request body into the query string (form bodies),
  collapses repeated query keys (parse_qs/dict), and always adds X-Amz-Expires.
- A `Date` header replaces X-Amz-Date (SigV4Auth._set_necessary_date_headers).
- Header values are collapsed with Python's str.split(), which also splits on
  Unicode whitespace (U+00A0, U+2003, U+0085, U+001C..U+001F, ...).
- expect, user-agent and x-amzn-trace-id are never signed.
"""
import base64
import datetime
import json
import sys
from urllib.parse import parse_qsl, quote, unquote

import botocore.auth as botoauth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.utils import normalize_url_path

HOST_FOR_URL = 'example.amazonaws.com'  # only the path and query of the URL are used


class FixedClock:
    """Replaces botocore.auth's `datetime` module: utcnow() returns the signing time."""

    def __init__(self):
        self.now = datetime.datetime(1970, 1, 1)
        clock = self

        class FixedDatetime(datetime.datetime):
            @classmethod
            def utcnow(cls):
                return clock.now

        self.datetime = FixedDatetime
        self.timezone = datetime.timezone
        self.timedelta = datetime.timedelta


CLOCK = FixedClock()
botoauth.datetime = CLOCK


def decode_query(query):
    pairs = []
    if query == '':
        return pairs
    for part in query.split('&'):
        key, _, value = part.partition('=')
        pairs.append((unquote(key, errors='strict'), unquote(value, errors='strict')))
    return pairs


def is_form(headers):
    return any(n.lower() == 'content-type' and v.strip().lower().startswith('application/x-www-form-urlencoded') for n, v in headers)


def make_signer(req, credentials):
    base = botoauth.SigV4QueryAuth if req['mode'] == 'query' else botoauth.SigV4Auth
    normalize = req['normalize']
    double = req['doubleUriEncode']
    payload_hash = req['payloadHash']

    class Signer(base):
        def _normalize_url_path(self, path):
            if normalize:
                path = normalize_url_path(path)
            if double:
                path = quote(path, safe='/~')
            return path

        def payload(self, request):
            if payload_hash is not None:
                return payload_hash
            return super().payload(request)

        # Record what botocore signs (it only logs it).
        def canonical_request(self, request):
            self.seen_canonical_request = super().canonical_request(request)
            return self.seen_canonical_request

        def string_to_sign(self, request, canonical_request):
            self.seen_string_to_sign = super().string_to_sign(request, canonical_request)
            return self.seen_string_to_sign

    if req['mode'] == 'query':
        return Signer(credentials, req['service'], req['region'], expires=req['expirationInSeconds'])
    return Signer(credentials, req['service'], req['region'])


def sign(req):
    CLOCK.now = datetime.datetime(1970, 1, 1) + datetime.timedelta(milliseconds=req['timeMs'])
    token = req['sessionToken']
    signed_token = None if req['omitSessionToken'] else token
    credentials = Credentials(req['accessKeyId'], req['secretAccessKey'], signed_token)
    signer = make_signer(req, credentials)

    wire = req['path']
    path, _, query = wire.partition('?')
    body = base64.b64decode(req['body'])
    data = body if body else None
    if req['mode'] == 'query' and body and is_form(req['headers']):
        # botocore's query-protocol serialiser hands form parameters to the
        # signer as a dict, never as bytes (SigV4QueryAuth then moves them
        # into the query string); give it the body the way botocore would.
        data = dict(parse_qsl(body.decode('utf-8'), keep_blank_values=True))
    request = AWSRequest(method=req['method'], url='http://' + HOST_FOR_URL + path, data=data)
    request.params = decode_query(query)
    for name, value in req['headers']:
        request.headers[name] = value
    if req['signBody'] and req['mode'] == 'header':
        request.headers['X-Amz-Content-SHA256'] = signer.payload(request)
    signer.add_auth(request)

    headers = [[name, value] for name, value in request.headers.items()]
    if req['mode'] == 'header':
        if token is not None and req['omitSessionToken']:
            headers.append(['X-Amz-Security-Token', token])
        auth = request.headers['Authorization']
        signature = auth.rsplit('Signature=', 1)[1]
        out_path = wire
    else:
        signed_url = request.url
        out_path = signed_url[len('http://' + HOST_FOR_URL):]
        signature = out_path.rsplit('X-Amz-Signature=', 1)[1]
        if token is not None and req['omitSessionToken']:
            out_path += '&X-Amz-Security-Token=' + quote(token, safe='-_.~')
    return {
        'signature': signature,
        'path': out_path,
        'headers': headers,
        'canonicalRequest': signer.seen_canonical_request,
        'stringToSign': signer.seen_string_to_sign,
    }


def main():
    for line in sys.stdin:
        if not line.strip():
            continue
        req = json.loads(line)
        try:
            answer = sign(req)
        except Exception as e:  # reported to the caller as a refusal, never a crash
            answer = {'error': '%s: %s' % (type(e).__name__, e)}
        answer['id'] = req.get('id')
        sys.stdout.write(json.dumps(answer) + '\n')
        sys.stdout.flush()


if __name__ == '__main__':
    main()
