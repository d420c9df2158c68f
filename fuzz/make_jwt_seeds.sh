#!/usr/bin/env bash
# Writes the seeds of the jwt and jwks targets and the public keys the jwt target checks
# signatures with (fuzz/jwt_keys.inc): a fresh RSA and EC P-256 key on every run, whose
# private halves are deleted once the seeds are signed. Run by hand when the token seeds
# need to change, and commit what it wrote. Times are around the target's fixed "now",
# 1700000000 (2023-11-14).
set -euo pipefail
cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

b64url() { basenc --base64url -w0 | tr -d '='; }
hex_b64url() { xxd -r -p | b64url; }
secret="fuzz-hmac-secret-not-for-production"  # as kHmacSecret in jwt_fuzz.cc

openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 -out "$tmp/rsa.pem" 2>/dev/null
n=$(openssl rsa -in "$tmp/rsa.pem" -noout -modulus | cut -d= -f2 | hex_b64url)
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$tmp/ec.pem" 2>/dev/null
point=$(openssl pkey -in "$tmp/ec.pem" -pubout -outform DER | xxd -p | tr -d '\n' | tail -c 128)
x=$(printf %s "${point:0:64}" | hex_b64url)
y=$(printf %s "${point:64:64}" | hex_b64url)
k=$(printf %s "$secret" | b64url)

rsa='{"kty":"RSA","kid":"rsa-1","alg":"RS256","use":"sig","n":"'$n'","e":"AQAB"}'
ec='{"kty":"EC","kid":"ec-1","crv":"P-256","x":"'$x'","y":"'$y'"}'
oct='{"kty":"oct","kid":"hs-2","alg":"HS256","k":"'$k'"}'
jwks='{"keys":['$rsa,$ec,$oct']}'
printf 'R"json(%s)json"\n' "$jwks" >jwt_keys.inc

rm -f corpus/jwks/* corpus/jwt/*
printf %s "$jwks" >corpus/jwks/all.json
printf '{"keys":[%s]}' "$rsa" >corpus/jwks/rsa.json
printf '{"keys":[%s]}' "$ec" >corpus/jwks/ec.json
printf '{"keys":[%s]}' "$oct" >corpus/jwks/oct.json
printf '{"keys":[{"kty":"RSA","kid":"enc","use":"enc","n":"%s","e":"AQAB"},{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}' "$n" \
  >corpus/jwks/skipped.json
printf '{"keys":[{"kty":"EC","crv":"P-384","x":"%s","y":"%s"}]}' "$x" "$y" >corpus/jwks/bad_curve.json
printf '{"keys":[{"kty":"RSA","n":"","e":"AQAB"},{"kty":"oct","k":7}]}' >corpus/jwks/bad_members.json

# token NAME HEADER CLAIMS SIGNER: SIGNER is rsa, hmac, rsa-pem-as-hmac, none or bad.
token() {
  local input sig
  input="$(printf %s "$2" | b64url).$(printf %s "$3" | b64url)"
  case $4 in
    rsa) sig=$(printf %s "$input" | openssl dgst -sha256 -sign "$tmp/rsa.pem" -binary | b64url) ;;
    hmac) sig=$(printf %s "$input" | openssl dgst -sha256 -mac HMAC -macopt "key:$secret" -binary | b64url) ;;
    rsa-pem-as-hmac)
      openssl pkey -in "$tmp/rsa.pem" -pubout -out "$tmp/rsa.pub"
      sig=$(printf %s "$input" |
        openssl dgst -sha256 -mac HMAC -macopt "hexkey:$(xxd -p "$tmp/rsa.pub" | tr -d '\n')" -binary | b64url) ;;
    none) sig="" ;;
    bad) sig=$(printf 'not the signature' | b64url) ;;
  esac
  printf %s "$input.$sig" >"corpus/jwt/$1"
}

good='"iss":"https://issuer.example","aud":"duet","iat":1699990000,"nbf":1699990000,"exp":1700003600'
token rs256 '{"alg":"RS256","typ":"JWT","kid":"rsa-1"}' '{"sub":"alice",'"$good"'}' rsa
token hs256 '{"alg":"HS256","typ":"JWT"}' '{"sub":"bob","team":{"id":7},'"$good"'}' hmac
token hs256_kid '{"alg":"HS256","kid":"hs-2"}' '{"sub":"carol",'"${good/\"aud\":\"duet\"/\"aud\":[\"x\",\"duet\"]}"'}' hmac
token expired '{"alg":"HS256"}' '{"sub":"d","iss":"https://issuer.example","aud":"duet","exp":1699999000}' hmac
token no_exp '{"alg":"HS256"}' '{"sub":"e","iss":"https://issuer.example","aud":"duet"}' hmac
token not_yet '{"alg":"HS256"}' '{"iss":"https://issuer.example","aud":"duet","nbf":1700009000,"exp":1700090000}' hmac
token exp_float '{"alg":"HS256"}' '{"iss":"https://issuer.example","aud":"duet","exp":1.7e300}' hmac
token exp_string '{"alg":"HS256"}' '{"iss":"https://issuer.example","aud":"duet","exp":"1700003600"}' hmac
token wrong_iss '{"alg":"RS256","kid":"rsa-1"}' '{"iss":"https://other.example","aud":"duet","exp":1700003600}' rsa
token wrong_aud '{"alg":"RS256","kid":"rsa-1"}' '{"iss":"https://issuer.example","aud":["a","b"],"exp":1700003600}' rsa
token alg_none '{"alg":"none","typ":"JWT"}' '{"sub":"mallory",'"$good"'}' none
token alg_confusion '{"alg":"HS256","kid":"rsa-1"}' '{"sub":"mallory",'"$good"'}' rsa-pem-as-hmac
token kid_number '{"alg":"HS256","kid":42}' '{"sub":"m",'"$good"'}' hmac
token kid_null '{"alg":"RS256","kid":null}' '{"sub":"m",'"$good"'}' rsa
token kid_unknown '{"alg":"RS256","kid":"rsa-9"}' '{"sub":"m",'"$good"'}' rsa
token es256 '{"alg":"ES256","kid":"ec-1"}' '{"sub":"m",'"$good"'}' bad
token bad_signature '{"alg":"RS256","kid":"rsa-1"}' '{"sub":"m",'"$good"'}' bad
printf 'a.b' >corpus/jwt/two_segments
printf 'e30.e30.e30.e30' >corpus/jwt/four_segments
echo "wrote jwt_keys.inc, corpus/jwt/ ($(ls corpus/jwt | wc -l)) and corpus/jwks/ ($(ls corpus/jwks | wc -l))"
