package EKeyTest;
# Test client for the mod_ekey suite, independent of our C core: keys, tokens and DPoP
# proofs are made with CryptX and plain Perl, and every part can be mutated to build attack
# cases. The hooks, in the order they apply (sign_jws; token() and proof() pass them on):
#   hdr => {..}, claims => {..}      override members (undef deletes one)
#   hdr_json => '..', claims_json => '..'   the exact JSON text (duplicates, odd spacing)
#   hdr_b64 => '..', claims_b64 => '..'     the exact encoded segment (padding, alphabet)
#   signer => $key | 'secret'        another key (ECC P-256/384/521, Ed25519, RSA) or an HMAC
#   hash => 'SHA384'                 another digest for ECDSA / RSA
#   sign_input => '..'               sign these bytes instead of the real signing input
#   sig_mutate => sub { $raw }       rewrite the raw signature bytes (r||s for ECDSA)
#   sig_b64 => '..'                  the exact third segment
#   compact => sub { $jws }          rewrite the final compact string (extra dots, spaces)
#   now => $t                        the clock token() and proof() take their times from
use strict;
use warnings;
use Exporter 'import';
use Carp qw(croak);
use Crypt::PK::ECC ();
use Crypt::PK::Ed25519 ();
use Crypt::PK::RSA ();
use Crypt::Mac::HMAC qw(hmac);
use Crypt::PRNG qw(random_bytes);
use Digest::SHA qw(sha256);
use MIME::Base64 qw(encode_base64url decode_base64url decode_base64);
use Math::BigInt try => 'GMP';
use JSON::PP ();
use IO::Socket::INET ();
use IO::Socket::SSL ();
use HTTP::Request ();
use HTTP::Response ();
use LWP::UserAgent ();
use Apache::Test ();
use Apache::TestRequest ();
use Apache::TestConfig ();

our @EXPORT = qw(b64u b64u_dec jcanon client_key pub_jwk jkt token proof sign_jws
                 ekey_request send_req raw_request tls_port base_url tls_url vhost_port x5t keys_dir
                 hits body_json www_auth t_root mint_pair issuer_key issuer_kid high_s low_s
                 new_key);

my $JSON = JSON::PP->new->canonical(0);
# The P-256 group order, for high-S / low-S signatures (RFC 6979 / BIP-62 style cases).
my $N256 = Math::BigInt->from_hex('FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551');

sub t_root { Apache::Test::vars('serverroot') }
sub keys_dir { t_root() . '/keys' }
sub b64u { encode_base64url($_[0]) }          # no padding
sub b64u_dec { decode_base64url($_[0]) }
sub jcanon { JSON::PP->new->canonical(1)->encode($_[0]) }

# new_key('P-256' | 'P-384' | 'P-521' | 'Ed25519' | 'RSA')
sub new_key {
    my ($type) = @_;
    $type //= 'P-256';
    if ($type eq 'Ed25519') { my $k = Crypt::PK::Ed25519->new; $k->generate_key; return $k }
    if ($type eq 'RSA') { my $k = Crypt::PK::RSA->new; $k->generate_key(256, 65537); return $k }
    my %curve = ('P-256' => 'secp256r1', 'P-384' => 'secp384r1', 'P-521' => 'secp521r1');
    my $k = Crypt::PK::ECC->new;
    $k->generate_key($curve{$type} // croak "new_key: unknown type $type");
    return $k;
}
sub client_key { new_key('P-256') }

# The public JWK of any supported key, required members only.
sub pub_jwk {
    my ($k) = @_;
    my $h = $k->export_key_jwk('public', 1);
    return { kty => 'OKP', crv => 'Ed25519', x => $h->{x} } if ref $k eq 'Crypt::PK::Ed25519';
    return { kty => 'RSA', n => $h->{n}, e => $h->{e} } if ref $k eq 'Crypt::PK::RSA';
    return { kty => 'EC', crv => $h->{crv}, x => $h->{x}, y => $h->{y} };
}

# RFC 7638: the required members of the key type, lexicographic order, no whitespace.
sub jkt {
    my ($j) = @_;
    my @m = $j->{kty} eq 'OKP' ? qw(crv kty x) : $j->{kty} eq 'RSA' ? qw(e kty n) : qw(crv kty x y);
    return b64u(sha256('{' . join(',', map { sprintf('"%s":"%s"', $_, $j->{$_}) } @m) . '}'));
}

my $issuer;
sub issuer_key {
    $issuer //= Crypt::PK::ECC->new(keys_dir() . '/issuer.pem');
    return $issuer;
}
sub issuer_kid { jkt(pub_jwk(issuer_key())) }

# Raw signature bytes over $input by $key (JWS form: r||s for ECDSA).
sub raw_sign {
    my ($key, $input, $hash) = @_;
    return hmac($hash || 'SHA256', $key, $input) unless ref $key;
    return $key->sign_message($input) if ref $key eq 'Crypt::PK::Ed25519';
    return $key->sign_message($input, $hash || 'SHA256', 'v1.5') if ref $key eq 'Crypt::PK::RSA';
    my $bits = $key->key2hash->{curve_bits};
    $hash ||= $bits == 384 ? 'SHA384' : $bits == 521 ? 'SHA512' : 'SHA256';
    return $key->sign_message_rfc7518($input, $hash);
}

# r||s with s replaced by n - s, so the signature is high-S (or low-S) for P-256.
sub flip_s {
    my ($sig, $want_high) = @_;
    my ($r, $s) = (substr($sig, 0, 32), substr($sig, 32, 32));
    my $sv = Math::BigInt->from_hex(unpack('H*', $s));
    my $high = $sv->bcmp($N256->copy->brsft(1)) > 0;
    return $sig if $high == $want_high;
    my $hex = $N256->copy->bsub($sv)->as_hex;
    $hex =~ s/^0x//;
    return $r . pack('H*', ('0' x (64 - length $hex)) . $hex);
}
sub high_s { flip_s($_[0], 1) }
sub low_s { flip_s($_[0], 0) }

# JWS compact serialization of header and claims (hash refs or JSON text), see the hooks above.
sub sign_jws {
    my ($key, $hdr, $claims, %o) = @_;
    my $h = $o{hdr_json} // (ref $hdr ? $JSON->encode($hdr) : $hdr);
    my $c = $o{claims_json} // (ref $claims ? $JSON->encode($claims) : $claims);
    my $si = ($o{hdr_b64} // b64u($h)) . '.' . ($o{claims_b64} // b64u($c));
    my $sig = raw_sign($o{signer} // $key, $o{sign_input} // $si, $o{hash});
    $sig = $o{sig_mutate}->($sig) if $o{sig_mutate};
    my $jws = "$si." . ($o{sig_b64} // b64u($sig));
    $jws = $o{compact}->($jws) if $o{compact};
    return $jws;
}

sub apply_overrides {
    my ($base, $over) = @_;
    for my $k (keys %{ $over || {} }) {
        if (defined $over->{$k}) { $base->{$k} = $over->{$k} } else { delete $base->{$k} }
    }
    return $base;
}

# A valid E-Key bound to $o{key} (DPoP) or to the certificate thumbprint $o{cert} (mTLS).
# Returns ($token, \%claims).
sub token {
    my (%o) = @_;
    my $now = $o{now} // time;
    my $hdr = apply_overrides({ alg => 'ES256', typ => 'ekey+jwt', kid => issuer_kid() }, $o{hdr});
    my $cnf = $o{cert} ? { 'x5t#S256' => $o{cert} }
            : { jkt => jkt(pub_jwk($o{key} // croak 'token: key or cert required')) };
    my $c = apply_overrides({ iss => 'https://issuer.example', sub => 'agent-123',
                              aud => 'https://api.example.com', iat => $now, exp => $now + 60,
                              trace => b64u(random_bytes(16)),
                              cap => { action => 'POST:/payments', limit => 1 }, cnf => $cnf },
                            $o{claims});
    return (sign_jws(issuer_key(), $hdr, $c, %o), $c);
}

# A valid DPoP proof by $key for ($method, $url), bound to $token and $trace (nonce).
sub proof {
    my ($key, $method, $url, $token, $trace, %o) = @_;
    my $hdr = apply_overrides({ typ => 'dpop+jwt', alg => 'ES256', jwk => pub_jwk($key) }, $o{hdr});
    my $c = apply_overrides({ jti => b64u(random_bytes(16)), htm => $method, htu => $url,
                              iat => $o{now} // time, ath => b64u(sha256($token // '')),
                              nonce => $trace }, $o{claims});
    delete $c->{nonce} unless defined $c->{nonce};
    return sign_jws($key, $hdr, $c, %o);
}

# URLs of the main server or of a virtual host of t/conf (<VirtualHost NAME>).
sub vhost_port { Apache::Test::config()->{vhosts}{$_[0]}{port} // croak "no vhost $_[0]" }
sub base_url {
    my ($vhost) = @_;
    return 'http://localhost:' . vhost_port($vhost) if $vhost;
    return 'http://' . Apache::TestRequest::hostport(Apache::Test::config());
}
sub tls_port { vhost_port($_[0] // 'ekey_tls') }
sub tls_url { 'https://localhost:' . tls_port($_[0]) }

# A fresh client key, token and proof for $method $path: the baseline of every case.
# mint_pair(key =>, method =>, path =>, origin => | vhost =>, token => {hooks}, proof => {hooks})
sub mint_pair {
    my (%o) = @_;
    my $key = $o{key} || client_key();
    my $method = $o{method} || 'POST';
    my $path = $o{path} || '/payments';
    my ($t, $c) = token(key => $key, %{ $o{token} || {} });
    my $p = proof($key, $method, ($o{origin} // base_url($o{vhost})) . $path, $t, $c->{trace},
                  %{ $o{proof} || {} });
    return ($t, $p, $c, $key);
}

# x5t#S256 of one of the suite's certificates (keys/NAME.crt).
sub x5t {
    my ($name) = @_;
    open(my $fh, '<', keys_dir() . "/$name.crt") or croak "$name.crt: $!";
    my $pem = do { local $/; <$fh> };
    $pem =~ s/-----[^-]+-----//g;
    return b64u(sha256(decode_base64($pem)));
}

sub ssl_opts {
    my ($cert) = @_;
    my $k = keys_dir();
    return (SSL_ca_file => "$k/ca.crt", SSL_verifycn_name => 'localhost',
            SSL_verify_mode => IO::Socket::SSL::SSL_VERIFY_PEER(),
            $cert ? (SSL_cert_file => "$k/$cert.crt", SSL_key_file => "$k/$cert.key") : ());
}

# General request: send_req(method =>, path =>, headers => [[n, v], ...], body =>, ctype =>,
# tls => 1 | cert name (client certificate from keys/), vhost => NAME, url => absolute URL).
sub send_req {
    my (%o) = @_;
    my $method = $o{method} || 'POST';
    my $url = $o{url} // (($o{tls} ? tls_url($o{vhost}) : base_url($o{vhost}))
                          . ($o{path} // '/payments'));
    my $ua = LWP::UserAgent->new(timeout => 30, keep_alive => 0, max_redirect => 0,
        ssl_opts => { ssl_opts($o{tls} && $o{tls} ne '1' ? $o{tls} : undef), verify_hostname => 1 });
    my $req = HTTP::Request->new($method => $url);
    $req->push_header(@$_) for @{ $o{headers} || [] };
    my $body = exists $o{body} ? $o{body} : ($method eq 'POST' ? '{"amount":1000}' : undef);
    if (defined $body) {
        $req->content($body);
        $req->header('Content-Type' => $o{ctype} // 'application/json')
            unless $req->header('Content-Type');
    }
    return $ua->request($req);
}

# ekey_request($method, $path, [name, value], ...): plain HTTP, repeated fields allowed.
sub ekey_request {
    my ($method, $path, @headers) = @_;
    return send_req(method => $method, path => $path, headers => \@headers);
}

# Sends the exact bytes $text (one request, the server closes) and parses the answer; for
# framing the user agents refuse to produce. raw_request($text, tls => cert|1, vhost => NAME).
sub raw_request {
    my ($text, %o) = @_;
    my $hp = Apache::TestRequest::hostport(Apache::Test::config());
    my ($port) = $o{vhost} ? (vhost_port($o{vhost})) : $hp =~ /:(\d+)$/;
    my $sock = $o{tls}
        ? IO::Socket::SSL->new(PeerAddr => '127.0.0.1', PeerPort => tls_port($o{vhost}), Timeout => 30,
                               ssl_opts($o{tls} ne '1' ? $o{tls} : undef))
        : IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port, Timeout => 30);
    croak "raw_request: connect: $! $IO::Socket::SSL::SSL_ERROR" unless $sock;
    print $sock $text;
    $sock->shutdown(1) unless $o{tls};
    my $answer = '';
    while (defined(my $line = <$sock>)) { $answer .= $line }
    close $sock;
    my $res = HTTP::Response->parse($answer);
    $res->code(0) unless $answer =~ m{^HTTP/};
    return $res;
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
    return ref $d eq 'HASH' ? $d : {};
}

sub www_auth { $_[0]->header('WWW-Authenticate') // '' }

1;
