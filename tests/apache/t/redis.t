# The Redis replay store (EKeyReplayStore redis) on the redis-server run.sh started: use
# limits and jti replay hold, keys carry an expiry, a refused request writes nothing, and an
# unreachable Redis fails closed with 503.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(plan ok);
use Apache::TestUtil qw(t_cmp);
use EKeyTest;
use EKeyCheck;

my $port = $ENV{EKEY_REDIS_PORT} or die "EKEY_REDIS_PORT is not set (run through tests/apache/run.sh)\n";
my $replay = qr/^EKey\b(?=.*\berror="invalid_token")(?=.*\bekey_error="replay_detected")/;

sub redis { my $out = `redis-cli -h 127.0.0.1 -p $port @_ 2>&1`; chomp $out; $out }
sub our_keys { grep { length } split /\n/, redis("--scan --pattern 'ekeytest:*'") }
sub send_redis {
    my ($vhost, $t, $p) = @_;
    return sub { send_req(vhost => $vhost, headers => [['Authorization' => "EKey $t"], ['DPoP' => $p]]) };
}

plan tests => 5 * ASSERTS_ALLOWED + 3 * ASSERTS_REFUSED + 4 + 1 + 1;

# A limit-2 token: two uses, then refused.
{
    my $k = client_key();
    my ($t, undef, $c) = mint_pair(key => $k, vhost => 'ekey_redis',
                                   token => { claims => { cap => { action => 'POST:/payments', limit => 2 } } });
    my $url = base_url('ekey_redis') . '/payments';
    allowed("redis: use $_ of 2", send_redis('ekey_redis', $t, proof($k, 'POST', $url, $t, $c->{trace}))) for 1 .. 2;
    refused('redis: third use of a limit-2 token',
            send_redis('ekey_redis', $t, proof($k, 'POST', $url, $t, $c->{trace})), 401, 'replay_detected', $replay);
}

# The same proof twice.
{
    my ($t, $p) = mint_pair(vhost => 'ekey_redis',
                            token => { claims => { cap => { action => 'POST:/payments', limit => 3 } } });
    allowed('redis: first use of a proof', send_redis('ekey_redis', $t, $p));
    refused('redis: jti replay', send_redis('ekey_redis', $t, $p), 401, 'replay_detected', $replay);
}

# A use count lives until exp + 2 S (EKEY_SPEC 12.1), S the largest EKeyClockSkew of the
# configuration (120, ekey_skew_loose's): a server sharing the store whose clock is up to S
# behind still accepts the token S after this one stopped, and must still find it spent.
{
    my $k = client_key();
    my $now = time;
    my ($t, undef, $c) = mint_pair(key => $k, vhost => 'ekey_redis', token => { claims => { exp => $now + 60 } });
    allowed('redis: a use to look at', send_redis('ekey_redis', $t, proof($k, 'POST', base_url('ekey_redis') . '/payments', $t, $c->{trace})));
    my $pttl = redis("pttl 'ekeytest:t:$c->{trace}'");
    my $want = ($now + 60 + 240 - time) * 1000;
    ok t_cmp($pttl > $want - 3000 && $pttl < $want + 3000 ? 'exp + 2 S' : "pttl $pttl, want about $want",
             'exp + 2 S', 'the count lives until exp + 2 x the largest skew');
}

# Every key has an expiry (maxmemory-policy noeviction never drops them; they must expire).
{
    my @keys = our_keys();
    ok t_cmp(scalar(@keys) >= 2 ? 'keys' : "'@keys'", 'keys', 'redis holds the store keys under EKeyRedisPrefix');
    my @no_ttl = grep { redis("ttl '$_'") !~ /^[1-9]\d*$/ } @keys;
    ok t_cmp("@no_ttl", '', 'every key has a positive TTL');
}

# A refused request touches nothing: a bad proof leaves the key count, the owner still passes.
{
    my $k = client_key();
    my ($t, undef, $c) = mint_pair(key => $k, vhost => 'ekey_redis');
    my $url = base_url('ekey_redis') . '/payments';
    my $before = scalar(my @b = our_keys());
    my $r = send_redis('ekey_redis', $t, proof($k, 'PUT', $url, $t, $c->{trace}, claims => { htm => 'PUT' }))->();
    ok t_cmp($r->code . ' ' . scalar(my @a = our_keys()), "401 $before", 'refused request wrote no key');
    allowed('redis: owner after a refused attempt', send_redis('ekey_redis', $t, proof($k, 'POST', $url, $t, $c->{trace})));
}

# Redis unreachable: fail closed.
{
    my $res = refused('redis down: 503', sub {
        my ($t, $p) = mint_pair(vhost => 'ekey_redisdown');
        send_redis('ekey_redisdown', $t, $p)->();
    }, 503, 'replay_store_unavailable', '');
    ok t_cmp($res->header('Retry-After') // '', '1', 'redis down: Retry-After');
}

no_crashes();
