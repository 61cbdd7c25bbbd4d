/// <reference path="./crypt-verify.d.ts" />
// The SDK's `ssl/cert` module (modules/crypt/ssl/ssl_cert.js, part of every
// build that includes securesocket), which @moddable/typings does not declare.
// Only what the firmware uses: register() adds a DER certificate to the trust
// anchors every later TLS connection verifies against (besides the built-in
// ca*.der store and a connection's own `certificate` option).
declare module 'ssl/cert' {
  export default class CertificateManager {
    static register(certificate: ArrayBuffer): void;
  }
}
