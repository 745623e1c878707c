# Certificate-bound E-Keys (RFC 8705) over real mod_ssl: the bound certificate passes, no
# certificate or another certificate is refused, SPIFFE IDs are exposed and can be required.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(plan ok);
use Apache::TestUtil qw(t_cmp);
use EKeyTest;
use EKeyCheck;

sub send_cert {
    my ($cert, $tok, $path) = @_;
    return sub { send_req(tls => $cert // 1, path => $path || '/payments',
                          headers => [['Authorization' => "EKey $tok"]]) };
}
my $replay = qr/^EKey\b(?=.*\berror="invalid_token")(?=.*\bekey_error="replay_detected")/;
my $spiffe_cap = { action => 'POST:/spiffe', limit => 1 };

my @cases = (
  ['no client certificate', sub { my ($t) = token(cert => x5t('client')); send_cert(undef, $t)->() }, 401, 'invalid_proof', 'invalid_token'],
  ['another client certificate', sub { my ($t) = token(cert => x5t('client')); send_cert('svid', $t)->() }, 401, 'invalid_proof', 'invalid_token'],
  ['same subject, other key', sub { my ($t) = token(cert => x5t('client')); send_cert('client2', $t)->() }, 401, 'invalid_proof', 'invalid_token'],
  ['DPoP token without proof over mTLS', sub { my ($t) = token(key => client_key()); send_cert('client', $t)->() }, 401, 'invalid_proof', 'invalid_dpop_proof'],
  ['x5t#S256 as hex', sub { my $hex = unpack('H*', b64u_dec(x5t('client'))); my ($t) = token(cert => $hex); send_cert('client', $t)->() }, 401, 'invalid_token', 'invalid_token'],
  ['certificate in a request header', sub {
      my ($t) = token(cert => x5t('client'));
      my $pem = do { local (@ARGV, $/) = (keys_dir() . '/client.crt'); <> };
      (my $one = $pem) =~ s/\n//g;
      send_req(tls => 1, headers => [['Authorization' => "EKey $t"], ['SSL-Client-Cert' => $one],
                                     ['X-SSL-Client-Cert' => $one], ['Client-Cert' => ":$one:"]]);
  }, 401, 'invalid_proof', 'invalid_token'],
  ['SPIFFE ID not equal to sub', sub { my ($t) = token(cert => x5t('svid'), claims => { cap => $spiffe_cap }); send_cert('svid', $t, '/spiffe')->() }, 401, 'invalid_proof', 'invalid_token'],
  ['SPIFFE required, plain certificate', sub { my ($t) = token(cert => x5t('client'), claims => { cap => $spiffe_cap }); send_cert('client', $t, '/spiffe')->() }, 401, 'invalid_proof', 'invalid_token'],
  # the URI SAN is "spiffe://example.org/agent-123\0.evil.example": not the SPIFFE ID it starts with
  ['SPIFFE ID with a NUL byte', sub { my ($t) = token(cert => x5t('svidnul'), claims => { sub => 'spiffe://example.org/agent-123', cap => $spiffe_cap }); send_cert('svidnul', $t, '/spiffe')->() }, 401, 'invalid_proof', 'invalid_token'],
  # EKEY_SPEC 9.1 step 1: at most one DPoP field, whatever the token is bound to
  ['two DPoP fields next to an mTLS token', sub { my ($t) = token(cert => x5t('client'));
      send_req(tls => 'client', path => '/payments', headers => [['Authorization' => "EKey $t"], ['DPoP' => 'a'], ['DPoP' => 'b']]) },
   400, 'invalid_request', qr/^EKey\b.*\berror="invalid_request"/],
);

plan tests => 6 * ASSERTS_ALLOWED + 5 + ASSERTS_REFUSED * (@cases + 5) + 3 + 1 + 4 + 1;

my ($t) = token(cert => x5t('client'));
my $res = allowed('bound certificate', send_cert('client', $t));
my $env = body_json($res);
ok t_cmp($env->{EKEY_BIND} // '', 'mTLS', 'EKEY_BIND');
ok t_cmp($env->{EKEY_SUB} // '', 'agent-123', 'EKEY_SUB');
ok t_cmp($env->{EKEY_SPIFFE_ID} // '', '', 'no EKEY_SPIFFE_ID for a plain certificate');

my $sub = 'spiffe://example.org/agent-123';
my ($ts) = token(cert => x5t('svid'), claims => { sub => $sub, cap => $spiffe_cap });
my $rs = allowed('SVID whose SPIFFE ID is sub', send_cert('svid', $ts, '/spiffe'));
ok t_cmp(body_json($rs)->{EKEY_SPIFFE_ID} // '', $sub, 'EKEY_SPIFFE_ID');
# a URI SAN with a NUL byte is no SPIFFE ID, not even its first part
{
    my ($tn) = token(cert => x5t('svidnul'));
    my $rn = allowed('SVID with a NUL in its URI: bound certificate', send_cert('svidnul', $tn));
    ok t_cmp(body_json($rn)->{EKEY_SPIFFE_ID} // '', '', 'no EKEY_SPIFFE_ID for a URI with a NUL');
}

refused(@$_) for @cases;

# The second use of a limit-1 certificate-bound token.
{
    my ($tr) = token(cert => x5t('client'));
    send_cert('client', $tr)->();
    refused('mTLS replay', send_cert('client', $tr), 401, 'replay_detected', $replay);
}

# A certificate from a CA the server does not trust never reaches the verifier: mod_ssl
# ends the handshake (SSLVerifyClient optional), so there is no answer and no backend hit.
{
    my ($tf) = token(cert => x5t('foreign'));
    my $before = hits();
    my $r = send_cert('foreign', $tf)->();
    ok t_cmp($r->code == 200 ? 'served' : 'refused', 'refused', 'foreign CA: not served');
    ok t_cmp(($r->header('Client-Warning') // '') eq 'Internal response' || $r->code == 403
             ? 'handshake or 403' : $r->code, 'handshake or 403', 'foreign CA: refused by mod_ssl');
    ok t_cmp(hits(), $before, 'foreign CA: backend not reached');
}

# SSLVerifyClient optional_no_ca: any certificate whose key the client holds, as the token
# names it (EKEY_SPEC 6.3); another certificate is still refused.
{
    my ($tn) = token(cert => x5t('foreign'));
    allowed('optional_no_ca: the bound foreign certificate', sub {
        send_req(tls => 'foreign', vhost => 'ekey_tls_noca', headers => [['Authorization' => "EKey $tn"]]) });
    my ($to) = token(cert => x5t('client'));
    refused('optional_no_ca: another certificate', sub {
        send_req(tls => 'foreign', vhost => 'ekey_tls_noca', headers => [['Authorization' => "EKey $to"]]) },
        401, 'invalid_proof', 'invalid_token');
}

# ... but a SPIFFE ID in such a certificate is nobody's: not handed to the backend, and not
# what EKeySpiffeSubject accepts (the client chose it; no CA vouched for it)
{
    my ($ts) = token(cert => x5t('svidforeign'));
    my $r = allowed('optional_no_ca: a bound SVID from an untrusted CA', sub {
        send_req(tls => 'svidforeign', vhost => 'ekey_tls_noca', headers => [['Authorization' => "EKey $ts"]]) });
    ok t_cmp(body_json($r)->{EKEY_SPIFFE_ID} // 'none', 'none', '... and no EKEY_SPIFFE_ID from it');
    my ($tp) = token(cert => x5t('svidforeign'), claims => { sub => 'spiffe://example.org/payments-admin', cap => $spiffe_cap });
    refused('optional_no_ca: EKeySpiffeSubject with an unverified SVID', sub {
        send_req(tls => 'svidforeign', vhost => 'ekey_tls_noca', path => '/spiffe', headers => [['Authorization' => "EKey $tp"]]) },
        401, 'invalid_proof', 'invalid_token');
}

# SSLUserName: mod_ssl names the user (the certificate's CN) before authorization runs, so
# `Require valid-user` alone would pass without asking mod_ekey; the E-Key is still checked.
{
    my $h0 = hits();
    refused('SSLUserName, a certificate and no E-Key', sub {
        send_req(tls => 'foreign', vhost => 'ekey_tls_noca', path => '/sslname') }, 401, 'missing_token', undef);
    ok t_cmp(hits() - $h0, 0, 'SSLUserName: the backend was not reached without an E-Key');
    my ($t, $c) = token(cert => x5t('client'), claims => { sub => 'agent-777', cap => { action => 'POST:/sslname', limit => 1 } });
    my $r = allowed('SSLUserName: an E-Key for the certificate', sub {
        send_req(tls => 'client', vhost => 'ekey_tls_noca', path => '/sslname', headers => [['Authorization' => "EKey $t"]]) });
    ok t_cmp(body_json($r)->{REMOTE_USER} // '', 'agent-777', 'SSLUserName: the user is the E-Key\'s sub');
    refused('SSLUserName: the same E-Key again', sub {
        send_req(tls => 'client', vhost => 'ekey_tls_noca', path => '/sslname', headers => [['Authorization' => "EKey $t"]]) },
        401, 'replay_detected', $replay);
}
# ... and the issuer takes that name for a caller only when mod_ssl verified the certificate
{
    my $mint = sub {
        my ($cert) = @_;
        send_req(tls => $cert, vhost => 'ekey_tls_noca', path => '/sslmint',
                 headers => [['Content-Type' => 'application/json']],
                 body => '{"sub":"agent-123","aud":"https://api.example.com","bind":"mTLS","cap":{"action":"POST:/payments"}}');
    };
    my $r = $mint->('foreign');
    ok t_cmp($r->code . ' ' . (body_json($r)->{error} // ''), '401 invalid_client',
             'SSLUserName from a certificate nobody verified (CN=agent-123): not a caller');
    $r = $mint->('client');
    ok t_cmp($r->code, 200, 'SSLUserName from a verified certificate: mints for its CN');
}

no_crashes();
