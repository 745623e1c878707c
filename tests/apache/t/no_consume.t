# A refused request consumes nothing, on both stores (issue 4 acceptance; dpop.t and redis.t
# cover a bad proof once): after a bad proof signature, a thief's proof, a stale proof, a
# request outside the capability and an expired token with the same trace, the owner's
# limit-2 token still has both uses (uses left 1, then 0, then replay_detected). A verified
# token that authorization refuses (Require ekey-cap) takes no use either: the use is taken
# only after authorization passed.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(plan ok);
use Apache::TestUtil qw(t_cmp);
use EKeyTest;

my $redis = $ENV{EKEY_REDIS_PORT} or die "EKEY_REDIS_PORT is not set (run through tests/apache/run.sh)\n";
my @stores = ([shm => undef], [redis => 'ekey_redis']);

sub answer {
    my ($vhost, $method, $t, $p) = @_;
    my $r = send_req(vhost => $vhost, method => $method, body => undef,
                     headers => [['Authorization' => "EKey $t"], ['DPoP' => $p]]);
    my $j = body_json($r);
    return $r->code . ' ' . ($j->{error} // "left=" . ($j->{EKEY_USES_LEFT} // '?'));
}
sub rkeys { scalar grep { length } split /\n/, `redis-cli -h 127.0.0.1 -p $redis --scan --pattern 'ekeytest:*'` }

my @cases = (
    ['bad proof signature', 401, 'invalid_proof', sub {
        my ($o) = @_;
        answer($o->{vhost}, 'POST', $o->{t}, proof($o->{k}, 'POST', $o->{url}, $o->{t}, $o->{c}{trace},
               sig_mutate => sub { my $s = shift; substr($s, 7, 1) ^= "\x01"; $s })) }],
    ["a thief's proof (other key)", 401, 'invalid_proof', sub {
        my ($o) = @_;
        answer($o->{vhost}, 'POST', $o->{t}, proof(client_key(), 'POST', $o->{url}, $o->{t}, $o->{c}{trace})) }],
    ['stale proof', 401, 'invalid_proof', sub {
        my ($o) = @_;
        answer($o->{vhost}, 'POST', $o->{t}, proof($o->{k}, 'POST', $o->{url}, $o->{t}, $o->{c}{trace},
               claims => { iat => time - 600 })) }],
    ['outside the capability (GET)', 403, 'capability_mismatch', sub {
        my ($o) = @_;
        answer($o->{vhost}, 'GET', $o->{t}, proof($o->{k}, 'GET', $o->{url}, $o->{t}, $o->{c}{trace})) }],
    ['expired token, same trace', 401, 'token_expired', sub {
        my ($o) = @_;
        my ($te) = token(key => $o->{k}, claims => { %{ $o->{c} }, iat => time - 400, exp => time - 200 });
        answer($o->{vhost}, 'POST', $te, proof($o->{k}, 'POST', $o->{url}, $te, $o->{c}{trace})) }],
);

plan tests => @stores * (@cases + 2) + 1 + 1;

for my $s (@stores) {
    my ($name, $vhost) = @$s;
    my $k = client_key();
    my ($t, $c) = token(key => $k, claims => { cap => { action => 'POST:/payments', limit => 2 } });
    my $o = { vhost => $vhost, k => $k, t => $t, c => $c, url => base_url($vhost) . '/payments' };
    my $keys0 = rkeys();
    my $h0 = hits();
    ok t_cmp($_->[3]->($o), "$_->[1] $_->[2]", "$name: $_->[0] refused") for @cases;
    ok t_cmp(hits() . ($name eq 'redis' ? ' keys+' . (rkeys() - $keys0) : ''),
             $h0 . ($name eq 'redis' ? ' keys+0' : ''), "$name: refusals reached no backend, wrote no store key");
    my @owner = map { answer($vhost, 'POST', $t, proof($k, 'POST', $o->{url}, $t, $c->{trace})) } 1 .. 3;
    ok t_cmp("@owner", '200 left=1 200 left=0 401 replay_detected',
             "$name: the owner still has both uses after the refusals");
}

# Not consumed also means not logged as allowed: the refusals' audit lines carry no uses_left.
my @lines = grep { /"code":"(invalid_proof|capability_mismatch|token_expired)"/ }
            split /^/, do { local (@ARGV, $/) = (t_root() . '/logs/audit.log'); <> };
ok t_cmp(scalar(grep { /"uses_left"/ } @lines), 0, 'audit lines of refusals have no uses_left');

{
    my $k = client_key();
    my ($t, $c) = token(key => $k, claims => { cap => { action => 'POST:/capdeny', limit => 1 } });
    my $url = base_url() . '/capdeny';
    my @got = map {
        my $r = send_req(method => 'POST', path => '/capdeny', body => undef,
                         headers => [['Authorization' => "EKey $t"],
                                     ['DPoP' => proof($k, 'POST', $url, $t, $c->{trace})],
                                     ($_ ? (['X-Capdeny-Allow' => 'yes']) : ())]);
        my $j = body_json($r);
        $r->code . ' ' . ($j->{error} // "left=" . ($j->{EKEY_USES_LEFT} // '?'))
    } (0, 1, 1);
    ok t_cmp("@got", '403 insufficient_capability 200 left=0 401 replay_detected',
             'Require ekey-cap refusal takes no use: the next authorized request has it');
}
