#!/usr/bin/perl
# mint-vectors.pl - mints the EKEY_SPEC.md test vectors ONCE, with CryptX (independent of
# libekey). ECDSA signatures are randomised: running this again gives a different token and
# proof, so it refuses to overwrite existing vectors unless given --force. Verification, not
# signing, is what the vectors make reproducible. Test-only keys; never deploy them.
#
#   cd tests/unit/vectors/spec && perl mint-vectors.pl [--force]
use strict;
use warnings;
use Crypt::PK::ECC;
use Crypt::Digest::SHA256 qw(sha256);
use Crypt::Misc qw(encode_b64u);

my $force = grep { $_ eq '--force' } @ARGV;
die "vectors exist (token.jwt); use --force to re-mint\n" if -e 'token.jwt' && !$force;

# The fixed inputs (EKEY_SPEC.md, section "Test vectors").
my %in = (
    iss    => 'https://issuer.example',
    sub    => 'agent-123',
    aud    => 'https://api.example.com',
    iat    => 1767225600,              # 2026-01-01T00:00:00Z
    ttl    => 120,
    trace  => '0amOVEezZyWBvmz12PdzMQ', # 16 bytes from `openssl rand 16`
    action => 'POST:/payments',
    limit  => 1,
    jti    => 'geCcwVirD4o8FZIR0ygiVQ', # 16 bytes from `openssl rand 16`
    htm    => 'POST',
    htu    => 'https://api.example.com/payments',
    piat   => 1767225605,
);

sub slurp { my ($f) = @_; open my $fh, '<', $f or die "$f: $!"; local $/; <$fh> }
sub spew  { my ($f, $s) = @_; open my $fh, '>', $f or die "$f: $!"; print $fh $s, "\n"; }

# Public JWK as one line, members in the order kty, crv, x, y (any order is valid JSON;
# this one is fixed so the documented strings are byte-exact).
sub pub_jwk {
    my ($pk) = @_;
    my $h = $pk->export_key_jwk('public', 1);
    return sprintf '{"kty":"EC","crv":"P-256","x":"%s","y":"%s"}', $h->{x}, $h->{y};
}

# RFC 7638: required members in lexicographic order, no whitespace, SHA-256, base64url.
sub thumbprint {
    my ($pk) = @_;
    my $h = $pk->export_key_jwk('public', 1);
    my $m = sprintf '{"crv":"%s","kty":"%s","x":"%s","y":"%s"}', @$h{qw(crv kty x y)};
    my $t = encode_b64u(sha256($m));
    die "CryptX thumbprint disagrees" unless $t eq $pk->export_key_jwk_thumbprint('SHA256');
    return $t;
}

sub sign_jws {
    my ($pk, $header, $claims, $stem) = @_;
    my $si = encode_b64u($header) . '.' . encode_b64u($claims);
    my $sig = encode_b64u($pk->sign_message_rfc7518($si, 'SHA256'));  # raw r||s, 64 bytes
    spew("$stem.header.json", $header);
    spew("$stem.claims.json", $claims);
    spew("$stem.signing-input.txt", $si);
    spew("$stem.signature.txt", $sig);
    spew("$stem.jwt", "$si.$sig");
    return "$si.$sig";
}

my $issuer = Crypt::PK::ECC->new(\slurp('issuer.key.pem'));
my $client = Crypt::PK::ECC->new(\slurp('client.key.pem'));
my ($kid, $jkt) = (thumbprint($issuer), thumbprint($client));
spew('issuer.jwk.json', pub_jwk($issuer));
spew('client.jwk.json', pub_jwk($client));
spew('issuer.kid.txt', $kid);
spew('client.jkt.txt', $jkt);

my $th = sprintf '{"alg":"ES256","typ":"ekey+jwt","kid":"%s"}', $kid;
my $tc = sprintf '{"iss":"%s","sub":"%s","aud":"%s","iat":%d,"exp":%d,"trace":"%s",'
    . '"cap":{"action":"%s","limit":%d},"cnf":{"jkt":"%s"}}',
    @in{qw(iss sub aud iat)}, $in{iat} + $in{ttl}, @in{qw(trace action limit)}, $jkt;
my $token = sign_jws($issuer, $th, $tc, 'token');

my $ath = encode_b64u(sha256($token));
spew('token.ath.txt', $ath);
my $ph = sprintf '{"typ":"dpop+jwt","alg":"ES256","jwk":%s}', pub_jwk($client);
my $pc = sprintf '{"jti":"%s","htm":"%s","htu":"%s","iat":%d,"ath":"%s","nonce":"%s"}',
    @in{qw(jti htm htu piat)}, $ath, $in{trace};
sign_jws($client, $ph, $pc, 'proof');
print "minted; now run check-vectors.pl\n";
