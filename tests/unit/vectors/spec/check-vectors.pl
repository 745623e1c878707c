#!/usr/bin/perl
# check-vectors.pl - verifies the EKEY_SPEC.md test vectors with Crypt::JWT / CryptX, an
# implementation independent of libekey. Exit 0 = all good, 1 = a vector is wrong (a missing Perl module is a failure: the test command installs them).
use strict;
use warnings;
use File::Basename qw(dirname);

BEGIN {
    for my $m (qw(Crypt::JWT Crypt::PK::ECC Crypt::Digest::SHA256 Crypt::Misc JSON::PP)) {
        unless (eval "require $m; 1") { print "FAIL: $m not installed\n"; exit 1; }
    }
}
use Crypt::JWT qw(decode_jwt);
use Crypt::Digest::SHA256 qw(sha256);
use Crypt::Misc qw(encode_b64u decode_b64u);

my $dir = dirname(__FILE__);
my ($n, $bad) = (0, 0);
sub slurp {
    my ($f) = @_;
    open my $fh, '<', "$dir/$f" or die "$dir/$f: $!";
    local $/; my $s = <$fh>; $s =~ s/\s+\z//; return $s;
}
sub ok { my ($c, $what) = @_; $n++; print(($c ? 'ok' : 'not ok'), " $n - $what\n"); $bad++ unless $c; }

my $json = JSON::PP->new->canonical;
my ($token, $proof) = (slurp('token.jwt'), slurp('proof.jwt'));
my $issuer = Crypt::PK::ECC->new("$dir/issuer.pub.pem");
my $client = Crypt::PK::ECC->new("$dir/client.pub.pem");
my ($kid, $jkt, $ath) = (slurp('issuer.kid.txt'), slurp('client.jkt.txt'), slurp('token.ath.txt'));

# Keys: PEM and JWK agree, thumbprints are RFC 7638.
ok($issuer->export_key_jwk_thumbprint('SHA256') eq $kid, 'issuer kid = RFC 7638 thumbprint');
ok($client->export_key_jwk_thumbprint('SHA256') eq $jkt, 'client jkt = RFC 7638 thumbprint');
for my $who (qw(issuer client)) {
    my $jwk = $json->decode(slurp("$who.jwk.json"));
    my $pem = $who eq 'issuer' ? $issuer : $client;
    my $h = $pem->export_key_jwk('public', 1);
    ok($jwk->{x} eq $h->{x} && $jwk->{y} eq $h->{y} && $jwk->{crv} eq 'P-256', "$who JWK = PEM");
    ok(!exists $jwk->{d}, "$who JWK has no private member");
}

# The token: every part, the signature under the issuer key, the claims.
ok($token eq slurp('token.signing-input.txt') . '.' . slurp('token.signature.txt'), 'token = input.sig');
ok(join('.', map { encode_b64u(slurp("token.$_.json")) } qw(header claims))
   eq slurp('token.signing-input.txt'), 'token signing input = b64u(header).b64u(claims)');
ok(length(decode_b64u(slurp('token.signature.txt'))) == 64, 'token signature is 64 bytes r||s');
my ($th, $tc) = eval {
    decode_jwt(token => $token, key => $issuer, accepted_alg => 'ES256', decode_header => 1,
               verify_iat => 0, verify_nbf => 0, verify_exp => 0,
               verify_iss => 'https://issuer.example', verify_aud => 'https://api.example.com');
};
ok(defined $tc, 'Crypt::JWT verifies the token' . ($@ ? ": $@" : ''));
$tc //= {}; $th //= {};
ok(($th->{kid} // '') eq $kid, 'token kid = issuer thumbprint');
ok(($th->{typ} // '') eq 'ekey+jwt' && ($th->{alg} // '') eq 'ES256', 'token typ, alg');
ok(($tc->{cnf}{jkt} // '') eq $jkt, 'token cnf.jkt = client thumbprint');
ok(length(decode_b64u($tc->{trace} // '')) == 16 && length($tc->{trace}) == 22, 'trace: 16 bytes, 22 chars');
ok(($tc->{exp} // 0) - ($tc->{iat} // 0) == 120, 'token lifetime 120 s');
ok(encode_b64u(sha256($token)) eq $ath, 'ath = b64u(SHA-256(token))');

# The proof: signature under its own jwk, jwk thumbprint = cnf.jkt, ath, nonce = trace.
ok($proof eq slurp('proof.signing-input.txt') . '.' . slurp('proof.signature.txt'), 'proof = input.sig');
ok(join('.', map { encode_b64u(slurp("proof.$_.json")) } qw(header claims))
   eq slurp('proof.signing-input.txt'), 'proof signing input = b64u(header).b64u(claims)');
my $phdr = $json->decode(decode_b64u((split /\./, $proof)[0]));
my ($ph, $pc) = eval {
    decode_jwt(token => $proof, key => $phdr->{jwk}, accepted_alg => 'ES256', decode_header => 1,
               verify_iat => 0, verify_nbf => 0, verify_exp => 0);
};
ok(defined $pc, 'Crypt::JWT verifies the proof' . ($@ ? ": $@" : ''));
$pc //= {}; $ph //= {};
ok(($ph->{typ} // '') eq 'dpop+jwt' && ($ph->{alg} // '') eq 'ES256', 'proof typ, alg');
ok(Crypt::PK::ECC->new($phdr->{jwk})->export_key_jwk_thumbprint('SHA256') eq $jkt, 'proof jwk thumbprint = cnf.jkt');
ok(($pc->{ath} // '') eq $ath, 'proof ath');
ok(($pc->{nonce} // '') eq ($tc->{trace} // 'x'), 'proof nonce = trace');
ok(($pc->{htm} // '') eq 'POST' && ($pc->{htu} // '') eq 'https://api.example.com/payments', 'htm, htu');

# Known answers from RFC 9449 (section 7.1 ath; Figure 4 key -> Figure 9 jkt).
ok(encode_b64u(sha256('Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU'))
   eq 'fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo', 'RFC 9449 ath known answer');
ok(Crypt::PK::ECC->new({kty => 'EC', crv => 'P-256',
        x => 'l8tFrhx-34tV3hRICRDY9zCkDlpBhF42UQUfWVAWBFs',
        y => '9VE4jf_Ok_o64zbTTlcuNJajHmt6v9TDVrU0CdvGRDA'})->export_key_jwk_thumbprint('SHA256')
   eq '0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I', 'RFC 9449 jkt known answer');

# A changed byte fails independently too.
(my $t2 = $token) =~ s/\.(.)/'.' . ($1 eq 'e' ? 'f' : 'e')/e;
ok(!defined eval { decode_jwt(token => $t2, key => $issuer, verify_exp => 0) }, 'altered token rejected');

print "1..$n\n";
exit($bad ? 1 : 0);
