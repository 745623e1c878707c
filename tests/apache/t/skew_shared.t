# A token's use count lives as long as any location sharing the replay store accepts the
# token (EKEY_SPEC 12.1: until exp + S, with S the largest skew configured), not only as long
# as the location that took the use would: a limit-1 token used at a host with
# EKeyClockSkew 0 stays used at a host with EKeyClockSkew 120 after its exp.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(plan ok);
use Apache::TestUtil qw(t_cmp);
use Time::HiRes qw(time sleep);
use IO::Socket::INET ();
use HTTP::Response ();
use EKeyTest;
use EKeyCheck;

plan tests => 9;

sub spend {
    my ($vhost, $t, $c, $k) = @_;
    my $p = proof($k, 'POST', base_url($vhost) . '/skewpay', $t, $c->{trace});
    my $r = send_req(vhost => $vhost, path => '/skewpay',
                     headers => [['Authorization' => "EKey $t"], ['DPoP' => $p]]);
    return $r->code . ' ' . (body_json($r)->{error} // 'ok');
}

my $k = client_key();
my $now = int(time);
my ($t, $c) = token(key => $k, claims => { iat => $now, exp => $now + 2,
                                           cap => { action => 'POST:/skewpay', limit => 1 } });
ok t_cmp(spend('ekey_skew_tight', $t, $c, $k), '200 ok', 'used at the strict host');
ok t_cmp(spend('ekey_skew_loose', $t, $c, $k), '401 replay_detected', 'spent at the lenient host too');
sleep($now + 4 - time) if $now + 4 > time;        # past exp: the strict host's skew is 0
ok t_cmp(spend('ekey_skew_tight', $t, $c, $k), '401 token_expired', 'expired at the strict host');
ok t_cmp(spend('ekey_skew_loose', $t, $c, $k), '401 replay_detected',
         'still spent at the lenient host, which accepts it for 120 s more');
# The same for a proof's jti: kept while any location sharing the store accepts the proof
# (EKEY_SPEC 12.1: iat + A + S with the largest A and S), not only its own EKeyProofMaxAge.
{
    my $k2 = client_key();
    my $n = int(time);
    my ($t2, $c2) = token(key => $k2, claims => { iat => $n, exp => $n + 60,
                                                  cap => { action => 'POST:/agepay', limit => 5 } });
    my $url = base_url('ekey_age_tight') . '/agepay';
    my $p = proof($k2, 'POST', $url, $t2, $c2->{trace}, now => $n);
    my $send = sub {
        my $r = send_req(vhost => $_[0], path => '/agepay',
                         headers => [['Authorization' => "EKey $t2"], ['DPoP' => $p]]);
        return $r->code . ' ' . (body_json($r)->{error} // 'ok');
    };
    ok t_cmp($send->('ekey_age_tight'), '200 ok', 'proof used at the host allowing 1 s');
    sleep($n + 3 - time) if $n + 3 > time;
    ok t_cmp($send->('ekey_age_tight'), '401 invalid_proof', 'too old there now');
    ok t_cmp($send->('ekey_age_loose'), '401 replay_detected',
             'still spent at the host of the same origin allowing 120 s');
}
# The clock the verifier reads is the one of the check, not the request line's: a client
# that sends the request line, then its header fields after the token's exp, gets
# token_expired (it got 200 while request_time was taken for now).
{
    my $k3 = client_key();
    my $n = int(time);
    my ($t3, $c3) = token(key => $k3, claims => { iat => $n, exp => $n + 2,
                                                  cap => { action => 'POST:/skewpay', limit => 1 } });
    my $sock = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => vhost_port('ekey_skew_tight'),
                                     Timeout => 30) or die "connect: $!";
    print $sock "POST /skewpay HTTP/1.1\r\nHost: localhost\r\n";
    sleep($n + 4 - time) if $n + 4 > time;            # past exp, and the skew here is 0
    my $p = proof($k3, 'POST', base_url('ekey_skew_tight') . '/skewpay', $t3, $c3->{trace});
    print $sock "Authorization: EKey $t3\r\nDPoP: $p\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
    my $answer = '';
    while (defined(my $line = <$sock>)) { $answer .= $line }
    close $sock;
    my $res = HTTP::Response->parse($answer);
    ok t_cmp($res->code . ' ' . (body_json($res)->{error} // 'ok'), '401 token_expired',
             'header fields sent after exp: token_expired, whenever the request line came');
}
no_crashes();
