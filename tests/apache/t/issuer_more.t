# mod_ekey_issuer beyond the basics: an independent JOSE library verifies minted tokens
# against the published JWKS, key rotation, mTLS minting with a real client certificate,
# and trace uniqueness over many concurrent mints across child processes.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(plan ok);
use Apache::TestUtil qw(t_cmp);
use Apache::TestRequest ();
use LWP::UserAgent ();
use Crypt::JWT qw(decode_jwt);
use JSON::PP ();
use MIME::Base64 qw(decode_base64);
use Digest::SHA qw(sha256);
use EKeyTest;

my $J = JSON::PP->new->canonical(1);
my $base = EKeyTest::base_url();
my $keys = t_root() . '/keys';
my $MINTS = $ENV{EKEY_UNIQUE_MINTS} || 100000;

sub post_json {
    my ($ua, $url, $body) = @_;
    my $req = HTTP::Request->new(POST => $url);
    $req->header('Content-Type' => 'application/json');
    $req->content($J->encode($body));
    return $ua->request($req);
}
sub mint {
    my ($path, %b) = @_;
    my $ua = Apache::TestRequest::user_agent(reset => 1);
    return body_json(post_json($ua, "$base$path", { sub => 'agent-123', bind => 'DPoP',
        aud => 'https://api.example.com', %b }));
}
sub jwks { my $ua = Apache::TestRequest::user_agent(reset => 1); $ua->get("$base$_[0]")->decoded_content }

plan tests => 4 + 5 + 4 + 2;

# 1. Crypt::JWT (CryptX) verifies the token against the JWKS, by kid.
{
    my $k = client_key();
    my $a = mint('/token', cap => { action => 'POST:/payments' }, jwk => pub_jwk($k));
    my ($hdr, $claims) = eval { decode_jwt(token => $a->{token}, kid_keys => jwks('/.well-known/jwks.json'),
                                           accepted_alg => 'ES256', decode_header => 1) };
    ok t_cmp($@ ? "error: $@" : 'verified', 'verified', 'Crypt::JWT verifies the minted token with the JWKS');
    ok t_cmp($hdr->{typ} // '', 'ekey+jwt', 'typ ekey+jwt');
    ok t_cmp($claims->{trace} // '', $a->{trace} // 'x', 'trace claim equals the answer');
    my $bad = $a->{token}; substr($bad, -5, 1) = substr($bad, -5, 1) eq 'A' ? 'B' : 'A';
    ok t_cmp(eval { decode_jwt(token => $bad, kid_keys => jwks('/.well-known/jwks.json')); 1 } ? 'accepted' : 'refused',
             'refused', 'a tampered token does not verify in Crypt::JWT');
}

# 2. Rotation: the newest key signs, both are published and trusted.
{
    my $k = client_key();
    my $old = mint('/token', cap => { action => 'POST:/payments' }, jwk => pub_jwk($k));
    my $new = mint('/token-rot', cap => { action => 'POST:/payments-rot' }, jwk => pub_jwk($k));
    my ($ho) = split /\./, $old->{token}; my ($hn) = split /\./, $new->{token};
    my $kid_old = $J->decode(MIME::Base64::decode_base64url($ho))->{kid};
    my $kid_new = $J->decode(MIME::Base64::decode_base64url($hn))->{kid};
    ok t_cmp($kid_new ne $kid_old ? 'rotated' : 'same', 'rotated', 'the newest key signs after rotation');
    my $set = $J->decode(jwks('/jwks-rot'));
    my %kids = map { $_->{kid} => 1 } @{ $set->{keys} };
    ok t_cmp(($kids{$kid_old} && $kids{$kid_new}) ? 2 : 0, 2, 'both keys published');
    # The verifier trusting both keys accepts a token signed with key 1 and one with key 2.
    my ($t1, $c1) = token(key => $k, claims => { cap => { action => 'POST:/payments-rot', limit => 1 } });
    my $p1 = proof($k, 'POST', "$base/payments-rot", $t1, $c1->{trace});
    ok t_cmp(ekey_request('POST', '/payments-rot', ['Authorization' => "EKey $t1"], ['DPoP' => $p1])->code, 200, 'token of key 1 accepted');
    my $p2 = proof($k, 'POST', "$base/payments-rot", $new->{token}, $new->{trace});
    ok t_cmp(ekey_request('POST', '/payments-rot', ['Authorization' => "EKey $new->{token}"], ['DPoP' => $p2])->code, 200, 'token of key 2 accepted');
    ok t_cmp(($set->{keys}[0]{d} // $set->{keys}[1]{d}) ? 'private' : 'public', 'public', 'rotated JWKS has no private member');
}

# 3. mTLS minting over real TLS: cnf.x5t#S256 is the connection's client certificate.
{
    my $port = Apache::Test::config()->{vhosts}{ekey_tls}{port};
    my $ua = LWP::UserAgent->new(timeout => 20, ssl_opts => { SSL_ca_file => "$keys/ca.crt",
        SSL_cert_file => "$keys/client.crt", SSL_key_file => "$keys/client.key" });
    my $r = post_json($ua, "https://localhost:$port/token-tls", { sub => 'agent-123',
        aud => 'https://api.example.com', bind => 'mTLS', cap => { action => 'POST:/payments' } });
    my $a = body_json($r);
    open(my $fh, '<', "$keys/client.crt") or die; my $pem = do { local $/; <$fh> }; $pem =~ s/-----[^-]+-----//g;
    ok t_cmp($r->code, 200, 'mTLS minting');
    ok t_cmp($a->{cnf}{'x5t#S256'} // '', b64u(sha256(decode_base64($pem))), 'cnf.x5t#S256 is the client certificate');
    my $req = HTTP::Request->new(POST => "https://localhost:$port/payments");
    $req->header('Authorization' => "EKey $a->{token}");
    ok t_cmp($ua->request($req)->code, 200, 'the mTLS-bound token works with the same certificate');
    my $nocert = LWP::UserAgent->new(timeout => 20, ssl_opts => { SSL_ca_file => "$keys/ca.crt" });
    ok t_cmp(post_json($nocert, "https://localhost:$port/token-tls", { sub => 'agent-123',
        aud => 'https://api.example.com', bind => 'mTLS', cap => { action => 'POST:/payments' } })->code,
        400, 'mTLS minting without a certificate: 400');
}

# 4. Trace uniqueness: many mints, concurrently, over several child processes (ab), then
#    every trace logged by the issuer is counted.
{
    my $body = t_root() . '/logs/mint-body.json';
    open(my $fh, '>', $body) or die;
    print $fh $J->encode({ sub => 'agent-123', aud => 'https://api.example.com', ttl => 30,
        bind => 'DPoP', cap => { action => 'POST:/payments', limit => 1 }, jwk => pub_jwk(client_key()) });
    close $fh;
    my $log = t_root() . '/logs/error_log';
    my $before = do { my $n = 0; open(my $l, '<', $log); $n++ while <$l>; $n };
    system("ab -q -k -n $MINTS -c 8 -T application/json -p $body $base/token > " . t_root() . "/logs/ab.out 2>&1");
    open(my $l, '<', $log) or die;
    my (%seen, $count, $n);
    while (<$l>) { next if ++$n <= $before; if (/EKEY00210: minted .*trace=([A-Za-z0-9_-]{22})/) { $count++; $seen{$1}++ } }
    ok t_cmp($count // 0, $MINTS, "$MINTS concurrent mints logged");
    ok t_cmp(scalar(keys %seen), $MINTS, 'no trace repeated');
}
