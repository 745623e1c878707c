package EKeyTest;
# Test client for the mod_ekey suite, independent of our C core: keys, tokens and DPoP
# proofs are made with CryptX (Crypt::PK::ECC) and plain Perl, and every part can be
# mutated (header, claims, signature bytes) to build attack cases.
use strict;
use warnings;
use Exporter 'import';
use Crypt::PK::ECC;
use Crypt::PRNG qw(random_bytes);
use Digest::SHA qw(sha256);
use MIME::Base64 qw(encode_base64url decode_base64url);
use JSON::PP ();
use Apache::Test ();
use Apache::TestRequest ();
use Apache::TestConfig ();

our @EXPORT = qw(b64u jcanon client_key pub_jwk jkt token proof sign_jws ekey_request
                 hits body_json www_auth t_root mint_pair);

my $JSON = JSON::PP->new->canonical(0);

sub t_root { Apache::Test::vars('serverroot') }
sub b64u { encode_base64url($_[0]) }          # no padding
sub jcanon { JSON::PP->new->canonical(1)->encode($_[0]) }

sub client_key { my $k = Crypt::PK::ECC->new; $k->generate_key('secp256r1'); $k }

sub pub_jwk {
    my ($k) = @_;
    my $h = $k->export_key_jwk('public', 1);
    return { kty => 'EC', crv => 'P-256', x => $h->{x}, y => $h->{y} };
}

# RFC 7638: required members, lexicographic order, no whitespace.
sub jkt {
    my ($j) = @_;
    return b64u(sha256(sprintf('{"crv":"%s","kty":"%s","x":"%s","y":"%s"}',
                               @$j{qw(crv kty x y)})));
}

my $issuer;
sub issuer_key {
    $issuer //= Crypt::PK::ECC->new(t_root() . '/keys/issuer.pem');
    return $issuer;
}

# Signs header and claims (hash refs, or raw JSON strings) with $key: JWS compact, raw r||s.
sub sign_jws {
    my ($key, $hdr, $claims, %o) = @_;
    my $h = ref $hdr ? $JSON->encode($hdr) : $hdr;
    my $c = ref $claims ? $JSON->encode($claims) : $claims;
    my $si = b64u($h) . '.' . b64u($c);
    my $sig = $key->sign_message_rfc7518($si, 'SHA256');
    $sig = $o{sig_mutate}->($sig) if $o{sig_mutate};
    return "$si." . b64u($sig);
}

# A valid E-Key; %o overrides claims (undef deletes), header via hdr => {...}.
sub token {
    my (%o) = @_;
    my $now = time;
    my $ik = issuer_key();
    my %hdr = (alg => 'ES256', typ => 'ekey+jwt', kid => jkt(pub_jwk($ik)), %{ $o{hdr} || {} });
    my %c = (iss => 'https://issuer.example', sub => 'agent-123',
             aud => 'https://api.example.com', iat => $now, exp => $now + 60,
             trace => b64u(random_bytes(16)),
             cap => { action => 'POST:/payments', limit => 1 },
             cnf => $o{cert} ? { 'x5t#S256' => $o{cert} } : { jkt => jkt(pub_jwk($o{key})) });
    for my $k (keys %{ $o{claims} || {} }) {
        my $v = $o{claims}{$k};
        if (defined $v) { $c{$k} = $v } else { delete $c{$k} }
    }
    delete $hdr{$_} for grep { !defined $hdr{$_} } keys %hdr;
    return (sign_jws($o{signer} || $ik, \%hdr, \%c, %o), \%c);
}

# A valid DPoP proof for ($method, $url) binding $token; %o overrides like token().
sub proof {
    my ($key, $method, $url, $token, $trace, %o) = @_;
    my %hdr = (typ => 'dpop+jwt', alg => 'ES256', jwk => pub_jwk($key), %{ $o{hdr} || {} });
    my %c = (jti => b64u(random_bytes(16)), htm => $method, htu => $url, iat => time,
             ath => b64u(sha256($token)), nonce => $trace);
    for my $k (keys %{ $o{claims} || {} }) {
        my $v = $o{claims}{$k};
        if (defined $v) { $c{$k} = $v } else { delete $c{$k} }
    }
    delete $hdr{$_} for grep { !defined $hdr{$_} } keys %hdr;
    return sign_jws($o{signer} || $key, \%hdr, \%c, %o);
}

sub base_url { my $hp = Apache::TestRequest::hostport(Apache::Test::config()); "http://$hp" }

# A fresh client key, token and proof for $method $path (the baseline of every case).
sub mint_pair {
    my (%o) = @_;
    my $key = $o{key} || client_key();
    my $method = $o{method} || 'POST';
    my $path = $o{path} || '/payments';
    my ($t, $c) = token(key => $key, %{ $o{token} || {} });
    my $p = proof($key, $method, base_url() . $path, $t, $c->{trace}, %{ $o{proof} || {} });
    return ($t, $p, $c, $key);
}

# Sends a request with raw header lines (list of [name, value]; repeats allowed).
sub ekey_request {
    my ($method, $path, @headers) = @_;
    my $ua = Apache::TestRequest::user_agent(reset => 1, keep_alive => 0);
    my $req = HTTP::Request->new($method => base_url() . $path);
    $req->push_header(@$_) for @headers;
    $req->content('{"amount":1000}') if $method eq 'POST';
    $req->header('Content-Type' => 'application/json') if $method eq 'POST';
    return $ua->request($req);
}

sub hits {
    my $f = t_root() . '/logs/hits';
    return 0 unless -e $f;
    open(my $fh, '<', $f) or return 0;
    my @l = <$fh>;
    return scalar @l;
}

sub body_json {
    my ($res) = @_;
    my $d = eval { JSON::PP->new->decode($res->decoded_content // '') };
    return $d || {};
}

sub www_auth { $_[0]->header('WWW-Authenticate') // '' }

1;
