#!/bin/sh
# crosscheck.sh - E-Keys and DPoP proofs checked against an independent JOSE implementation
# (Perl Crypt::JWT + CryptX, Debian packages libcrypt-jwt-perl and libcryptx-perl):
#   core mints  -> Crypt::JWT verifies (token with the issuer key, proof with its own jwk),
#   Crypt::JWT encodes -> the core verifies (and refuses the broken variants).
# Keys: tests/unit/vectors/{issuer,client}-p256.pem (test-only). Prints "N passed, M failed";
# exits non-zero on any failure, including missing Perl modules (scripts/deps.sh installs them).
set -u
here=$(cd "$(dirname "$0")" && pwd)
vectors=$here/vectors
tool=${EKEY_VECTOOL:-tests/unit/ekey_vectool}
[ -x "$tool" ] || tool=$here/ekey_vectool
if ! perl -MCrypt::JWT -MCrypt::PK::ECC -MJSON::PP -e 1 2>/dev/null; then
    echo "crosscheck: Crypt::JWT / CryptX / JSON::PP not installed (scripts/deps.sh installs them)"
    exit 1
fi
if [ ! -x "$tool" ]; then
    echo "crosscheck: ekey_vectool not built ($tool)"
    exit 1
fi

exec perl -w - "$tool" "$vectors" <<'PERL'
use strict;
use Crypt::JWT qw(encode_jwt decode_jwt);
use Crypt::PK::ECC;
use Crypt::Digest::SHA256 qw(sha256);
use Crypt::Misc qw(encode_b64u decode_b64u);
use JSON::PP;

my ($tool, $vec) = @ARGV;
my ($pass, $fail) = (0, 0);
my $json = JSON::PP->new->canonical(0);
my $now = time();
my %P = (iss => 'https://issuer.example', aud => 'https://api.example.com',
         htu => 'https://api.example.com/payments', action => 'POST:/payments');

sub ok {
    my ($cond, $name) = @_;
    if ($cond) { $pass++; print "ok - $name\n"; }
    else       { $fail++; print "not ok - $name\n"; }
    return $cond;
}

# RFC 7638: SHA-256 over {"crv","kty","x","y"} in this order, no whitespace.
sub thumbprint {
    my ($jwk) = @_;
    my $m = sprintf('{"crv":"%s","kty":"%s","x":"%s","y":"%s"}',
                    $jwk->{crv}, $jwk->{kty}, $jwk->{x}, $jwk->{y});
    return encode_b64u(sha256($m));
}

sub run_tool {
    my @args = @_;
    open(my $fh, '-|', $tool, @args) or die "cannot run $tool: $!";
    my %out;
    while (my $line = <$fh>) {
        chomp $line;
        my ($k, $v) = split(/ /, $line, 2);
        $out{$k} = $v;
    }
    close($fh);
    return \%out;
}

sub verify_core {
    my ($token, $proof, %o) = @_;
    return run_tool('verify', '--issuer-key', "$vec/issuer-p256.pem", '--iss', $P{iss},
                    '--aud', $P{aud}, '--now', $o{now} // $now, '--method', $o{method} // 'POST',
                    '--htu', $P{htu}, '--path', $o{path} // '/payments',
                    '--token', $token, '--proof', $proof);
}

sub segment_json {
    my ($jws, $i) = @_;
    return (split(/\./, $jws))[$i] ? decode_b64u((split(/\./, $jws))[$i]) : '';
}

my $issuer = Crypt::PK::ECC->new("$vec/issuer-p256.pem");
my $client = Crypt::PK::ECC->new("$vec/client-p256.pem");
my $issuer_jwk = $issuer->export_key_jwk('public', 1);
my $client_jwk = $client->export_key_jwk('public', 1);
my $kid = thumbprint($issuer_jwk);
my $jkt = thumbprint($client_jwk);

# ---------------------------------------------------------------- thumbprints
{
    open(my $fh, '-|', $tool, 'thumbprint', "$vec/issuer-p256.pem") or die;
    my $t = <$fh>; close($fh); chomp $t;
    ok($t eq $kid, 'issuer thumbprint: core = Perl RFC 7638');
    open($fh, '-|', $tool, 'thumbprint', "$vec/client-p256.pem") or die;
    $t = <$fh>; close($fh); chomp $t;
    ok($t eq $jkt, 'client thumbprint: core = Perl RFC 7638');
    ok(thumbprint({crv => 'P-256', kty => 'EC',
                   x => 'l8tFrhx-34tV3hRICRDY9zCkDlpBhF42UQUfWVAWBFs',
                   y => '9VE4jf_Ok_o64zbTTlcuNJajHmt6v9TDVrU0CdvGRDA'})
       eq '0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I', 'Perl thumbprint: RFC 9449 KAT');
}

# ------------------------------------------------------ core mints, Perl checks
my $m = run_tool('mint', '--issuer-key', "$vec/issuer-p256.pem",
                 '--client-key', "$vec/client-p256.pem", '--iss', $P{iss}, '--sub', 'agent-123',
                 '--aud', $P{aud}, '--action', $P{action}, '--limit', 2, '--ttl', 30,
                 '--now', $now, '--method', 'POST', '--htu', $P{htu} . '?q=1');
my ($token, $proof) = ($m->{token} // '', $m->{proof} // '');
ok($token ne '' && $proof ne '', 'core mints a token and a proof');

my ($th, $tc) = eval {
    decode_jwt(token => $token, key => Crypt::PK::ECC->new("$vec/issuer-p256.pem"),
               accepted_alg => 'ES256', decode_header => 1, verify_exp => 1, verify_iat => 1);
};
ok(defined $tc, 'Crypt::JWT verifies the core token with the issuer key') or print "# $@";
$th //= {}; $tc //= {};
ok(($th->{alg} // '') eq 'ES256' && ($th->{typ} // '') eq 'ekey+jwt', 'token header alg, typ');
ok(($th->{kid} // '') eq $kid, 'token kid = Perl thumbprint of the issuer key');
ok(join(',', sort keys %$th) eq 'alg,kid,typ', 'token header has exactly alg, typ, kid');
ok(($tc->{iss} // '') eq $P{iss} && ($tc->{sub} // '') eq 'agent-123'
   && ($tc->{aud} // '') eq $P{aud}, 'token iss, sub, aud');
ok(($tc->{iat} // 0) == $now && ($tc->{exp} // 0) == $now + 30, 'token iat, exp');
ok(ref $tc->{cap} eq 'HASH' && $tc->{cap}{action} eq $P{action} && $tc->{cap}{limit} == 2,
   'token cap');
ok(($tc->{trace} // '') =~ /^[A-Za-z0-9_-]{21}[AQgw]$/, 'token trace: 22 canonical chars');
ok(ref $tc->{cnf} eq 'HASH' && join(',', keys %{$tc->{cnf}}) eq 'jkt'
   && $tc->{cnf}{jkt} eq $jkt, 'token cnf.jkt = Perl thumbprint of the client key');
ok(segment_json($token, 1) =~
   /^\{"iss":[^,]*,"sub":[^,]*,"aud":[^,]*,"iat":\d+,"exp":\d+,"trace":"[^"]*","cap":\{"action":"[^"]*","limit":\d+\},"cnf":\{"jkt":"[^"]*"\}\}$/,
   'token claims in the documented order');

my $ph = eval { $json->decode(segment_json($proof, 0)) } // {};
ok(($ph->{typ} // '') eq 'dpop+jwt' && ($ph->{alg} // '') eq 'ES256', 'proof header typ, alg');
ok(ref $ph->{jwk} eq 'HASH' && !exists $ph->{jwk}{d}, 'proof jwk is public');
ok(ref $ph->{jwk} eq 'HASH' && thumbprint($ph->{jwk}) eq $jkt, 'proof jwk thumbprint = cnf.jkt');
my $pc = eval {
    decode_jwt(token => $proof, key => $ph->{jwk}, accepted_alg => 'ES256', verify_iat => 1);
};
ok(defined $pc, 'Crypt::JWT verifies the core proof with its embedded jwk') or print "# $@";
$pc //= {};
ok(($pc->{htm} // '') eq 'POST' && ($pc->{htu} // '') eq $P{htu}, 'proof htm, htu (no query)');
ok(($pc->{ath} // '') eq encode_b64u(sha256($token)), 'proof ath = Perl SHA-256 of the token');
ok(($pc->{nonce} // '') eq ($tc->{trace} // 'x'), 'proof nonce = trace');
ok(($pc->{iat} // 0) == $now && length($pc->{jti} // '') == 22, 'proof iat, jti');
ok(verify_core($token, $proof)->{status} eq 'EKEY_OK', 'core verifies its own pair');

# forgery: Crypt::JWT refuses a core token whose claims changed
{
    my @s = split(/\./, $token);
    my $c = $json->decode(decode_b64u($s[1]));
    $c->{cap}{limit} = 100;
    my $forged = join('.', $s[0], encode_b64u($json->encode($c)), $s[2]);
    my $r = eval { decode_jwt(token => $forged, key => $issuer, accepted_alg => 'ES256') };
    ok(!defined $r, 'Crypt::JWT refuses the core token with an edited payload');
    ok(verify_core($forged, $proof)->{status} eq 'EKEY_E_SIGNATURE',
       'core refuses it too (EKEY_E_SIGNATURE)');
}

# ------------------------------------------------ Perl encodes, core verifies
sub perl_token {
    my (%o) = @_;
    my %c = (iss => $P{iss}, sub => 'perl-agent', aud => $P{aud}, iat => $now + 0,
             exp => $now + 60, trace => encode_b64u(pack('C*', 1 .. 16)),
             cap => {action => $P{action}, limit => 3}, cnf => {jkt => $jkt});
    %c = (%c, %{$o{claims} // {}});
    delete $c{$_} for @{$o{delete} // []};
    my %h = (typ => 'ekey+jwt', kid => $kid, %{$o{header} // {}});
    return encode_jwt(payload => \%c, alg => $o{alg} // 'ES256', key => $o{key} // $issuer,
                      extra_headers => \%h);
}

sub perl_proof {
    my ($token, %o) = @_;
    my %c = (jti => encode_b64u(pack('N*', rand(2**32), rand(2**32), $$, time())),
             htm => 'POST', htu => $P{htu}, iat => $now + 0,
             ath => encode_b64u(sha256($token)), nonce => encode_b64u(pack('C*', 1 .. 16)));
    %c = (%c, %{$o{claims} // {}});
    delete $c{$_} for @{$o{delete} // []};
    my $key = $o{key} // $client;
    my %h = (typ => 'dpop+jwt', jwk => $o{jwk} // $key->export_key_jwk('public', 1),
             %{$o{header} // {}});
    return encode_jwt(payload => \%c, alg => 'ES256', key => $key, extra_headers => \%h);
}

my $pt = perl_token();
my $pp = perl_proof($pt);
my $v = verify_core($pt, $pp);
ok($v->{status} eq 'EKEY_OK', 'core verifies a Crypt::JWT token and proof')
    or print "# status $v->{status}\n";
ok(($v->{sub} // '') eq 'perl-agent' && ($v->{limit} // 0) == 3 && ($v->{jkt} // '') eq $jkt
   && ($v->{kid} // '') eq $kid, 'claims read back from the Crypt::JWT token');
ok(($v->{ath} // '') eq encode_b64u(sha256($pt)), 'core ath = Perl SHA-256 of the token');
ok(verify_core($pt, $pp, path => '/admin')->{status} eq 'EKEY_E_CAPABILITY',
   'capability mismatch (EKEY_E_CAPABILITY)');

my $p384 = Crypt::PK::ECC->new;
$p384->generate_key('secp384r1');
my @neg = (
    ['wrong kid', perl_token(header => {kid => $jkt}), undef, 'EKEY_E_KID'],
    ['typ JWT', perl_token(header => {typ => 'JWT'}), undef, 'EKEY_E_TYP'],
    ['typ application/ekey+jwt', perl_token(header => {typ => 'application/ekey+jwt'}), undef,
     'EKEY_E_TYP'],
    ['signed by the client key', perl_token(key => $client), undef, 'EKEY_E_SIGNATURE'],
    ['ES384 (not allowed)', perl_token(alg => 'ES384', key => $p384), undef, 'EKEY_E_ALG'],
    ['embedded jwk header', perl_token(header => {jwk => $issuer_jwk}), undef,
     'EKEY_E_HEADER'],
    ['other issuer', perl_token(claims => {iss => 'https://evil.example'}), undef,
     'EKEY_E_ISSUER'],
    ['aud array without us', perl_token(claims => {aud => ['https://x.example']}), undef,
     'EKEY_E_AUDIENCE'],
    ['limit "1"', perl_token(claims => {cap => {action => $P{action}, limit => '1'}}), undef,
     'EKEY_E_CLAIMS'],
    ['limit 0', perl_token(claims => {cap => {action => $P{action}, limit => 0}}), undef,
     'EKEY_E_CLAIMS'],
    ['cnf with both members', perl_token(claims => {cnf => {jkt => $jkt, 'x5t#S256' => $jkt}}),
     undef, 'EKEY_E_CNF'],
    ['no cnf', perl_token(delete => ['cnf']), undef, 'EKEY_E_CNF'],
    ['expired', perl_token(claims => {iat => $now - 100, exp => $now - 40}), undef,
     'EKEY_E_EXPIRED'],
    ['lifetime 1 day', perl_token(claims => {exp => $now + 86400}), undef, 'EKEY_E_LIFETIME'],
    ['trace padded', perl_token(claims => {trace => encode_b64u(pack('C*', 1 .. 16)) . '=='}),
     undef, 'EKEY_E_CLAIMS'],
);
my $base = $pt;
push @neg, (
    ['proof htu', $base, perl_proof($base, claims => {htu => 'https://api.example.com/admin'}),
     'EKEY_E_PROOF_HTU'],
    ['proof htm', $base, perl_proof($base, claims => {htm => 'GET'}), 'EKEY_E_PROOF_HTM'],
    ['proof ath of another token', $base,
     perl_proof($base, claims => {ath => encode_b64u(sha256("x$base"))}), 'EKEY_E_PROOF_ATH'],
    ['proof without ath', $base, perl_proof($base, delete => ['ath']), 'EKEY_E_PROOF_ATH'],
    ['proof without nonce', $base, perl_proof($base, delete => ['nonce']),
     'EKEY_E_PROOF_NONCE'],
    ['proof iat too old', $base, perl_proof($base, claims => {iat => $now - 61}),
     'EKEY_E_PROOF_IAT'],
    ['proof by another key', $base, perl_proof($base, key => $issuer), 'EKEY_E_PROOF_JKT'],
    ['proof jwk with d', $base, perl_proof($base, jwk => $client->export_key_jwk('private', 1)),
     'EKEY_E_PROOF'],
    ['proof typ JWT', $base, perl_proof($base, header => {typ => 'JWT'}), 'EKEY_E_PROOF'],
    ['victim jwk, attacker signature', $base, perl_proof($base, key => $issuer,
     jwk => $client_jwk), 'EKEY_E_PROOF'],
    ['E-Key as proof', $base, $base, 'EKEY_E_PROOF'],
);
for my $n (@neg) {
    my ($name, $t, $p, $want) = @$n;
    $p //= perl_proof($t);
    my $got = verify_core($t, $p)->{status} // '(none)';
    ok($got eq $want, "core refuses: $name ($want)") or print "# got $got\n";
}

print "crosscheck: $pass passed, $fail failed\n";
exit($fail == 0 && $pass > 0 ? 0 : 1);
PERL
