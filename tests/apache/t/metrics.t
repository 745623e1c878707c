# Metrics (issue 9 point 4): a known sequence of requests moves the ekey-metrics counters by
# exactly what was sent, and nothing else; the status page and its ?auto form show the same
# numbers; access is ordinary Require. The counters are the whole server's, so the test
# diffs a scrape taken before against one taken after.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(plan ok);
use Apache::TestUtil qw(t_cmp);
use JSON::PP ();
use LWP::UserAgent ();
use EKeyTest;

plan tests => 29;

my $ua = LWP::UserAgent->new(timeout => 30, keep_alive => 0);
my $base = base_url();

# name{labels} => value, and the names that have # HELP and # TYPE.
sub scrape {
    my $r = $ua->get("$base/ekey-metrics");
    die 'scrape: ' . $r->status_line unless $r->code == 200;
    my (%v, %typed, @bad);
    for my $l (split /\n/, $r->decoded_content) {
        if ($l =~ /^# (HELP|TYPE) (\w+) /) { $typed{$2}{$1} = 1; next }
        if ($l =~ /^(\w+)(\{[^}]*\})? (\S+)$/) { $v{$1 . ($2 // '')} = $3; next }
        push @bad, $l;
    }
    return (\%v, \%typed, \@bad, $r);
}

my ($before, $typed, $bad, $res) = scrape();
ok t_cmp($res->header('Content-Type'), 'text/plain; version=0.0.4; charset=utf-8',
         'ekey-metrics: Prometheus text format 0.0.4');
ok t_cmp(join(' | ', @$bad), '', 'ekey-metrics: every line is a comment or a sample');
my @untyped = grep { my $n = $_; $n =~ s/\{.*//; $n =~ s/_(bucket|sum|count)$// unless $typed->{$n};
                     !($typed->{$n}{HELP} && $typed->{$n}{TYPE}) } keys %$before;
ok t_cmp("@untyped", '', 'ekey-metrics: every sample has HELP and TYPE');
ok t_cmp($before->{ekey_replay_table_capacity}, 4096, 'replay table capacity = EKeyReplayCapacity');
ok t_cmp(scalar(grep { /^ekey_decisions_total\{/ } keys %$before) >= 40 ? 'all' : 'some', 'all',
         'every decision reason is a series (zeros included)');

# The sequence.
my $send = sub {
    my ($vhost, $t, $p) = @_;
    send_req(vhost => $vhost, headers => [['Authorization' => "EKey $t"], ['DPoP' => $p]]);
};
my @codes;
my ($t1, $p1) = mint_pair();
push @codes, $send->(undef, $t1, $p1)->code;                  # allowed
push @codes, $send->(undef, mint_pair())->code for 1 .. 2;    # allowed x2
push @codes, $send->(undef, $t1, $p1)->code;                  # replay: the same proof (jti)
{
    my $k = client_key();
    my ($t, undef, $c) = mint_pair(key => $k);                  # spent, then a fresh proof
    push @codes, $send->(undef, $t, proof($k, 'POST', "$base/payments", $t, $c->{trace}))->code;
    push @codes, $send->(undef, $t, proof($k, 'POST', "$base/payments", $t, $c->{trace}))->code;
}
{
    my $k = client_key();                                       # bad proof: wrong htm
    my ($t, undef, $c) = mint_pair(key => $k);
    push @codes, $send->(undef, $t, proof($k, 'PUT', "$base/payments", $t, $c->{trace}))->code;
}
push @codes, send_req()->code;                                  # no E-Key at all
push @codes, $send->('ekey_redis', mint_pair(vhost => 'ekey_redis'))->code;         # Redis ok
push @codes, $send->('ekey_redisdown', mint_pair(vhost => 'ekey_redisdown'))->code; # Redis down
{
    my $k = client_key();
    my $body = sub { JSON::PP->new->encode({ sub => 'agent-123', aud => 'https://api.example.com',
        bind => 'DPoP', cap => { action => $_[0] }, jwk => pub_jwk($k) }) };
    push @codes, send_req(path => '/token', body => $body->('POST:/payments'))->code;  # minted
    push @codes, send_req(path => '/token', body => $body->('DELETE:/x'))->code;       # refused
}
ok t_cmp("@codes", '200 200 200 401 200 401 401 401 200 503 200 403',
         'the sequence got the expected answers');

my %want = (
    'ekey_decisions_total{decision="allowed",code="none",reason="EKEY_OK"}' => 5,
    'ekey_decisions_total{decision="replay_blocked",code="replay_detected",reason="EKEY_E_JTI_REPLAY"}' => 1,
    'ekey_decisions_total{decision="replay_blocked",code="replay_detected",reason="EKEY_E_REPLAY"}' => 1,
    'ekey_decisions_total{decision="denied",code="invalid_proof",reason="EKEY_E_PROOF_HTM"}' => 1,
    'ekey_decisions_total{decision="denied",code="missing_token",reason="EKEY_E_NO_CREDENTIALS"}' => 1,
    'ekey_decisions_total{decision="denied",code="replay_store_unavailable",reason="EKEY_E_STORE_UNAVAILABLE"}' => 1,
    'ekey_redis_requests_total' => 2,
    'ekey_redis_errors_total' => 1,
    'ekey_redis_latency_seconds_count' => 2,
    'ekey_redis_latency_seconds_bucket{le="+Inf"}' => 2,
    'ekey_issuer_tokens_minted_total' => 1,
    'ekey_issuer_refusals_total{code="access_denied"}' => 1,
);
# Counted in log_transaction, which runs just after the client has its answer: wait (a
# bounded time) until the last request is in, then compare exactly.
my $after;
for (1 .. 40) {
    ($after) = scrape();
    last unless grep { ($after->{$_} // 0) - ($before->{$_} // 0) < $want{$_} } keys %want;
    select(undef, undef, undef, 0.1);
}
for my $k (sort keys %want) {
    ok t_cmp(($after->{$k} // 'missing') - ($before->{$k} // 0), $want{$k}, "counted exactly: $k");
}
# Every other counter stayed where it was (gauges and the latency sum and its buckets
# below +Inf move on their own).
my @moved = grep { !exists $want{$_} && !/^ekey_replay_table_live$|^ekey_redis_latency_seconds_(sum|bucket)/
                   && ($after->{$_} // -1) != ($before->{$_} // -2) } sort keys %$after;
ok t_cmp("@moved", '', 'no other counter moved');
ok t_cmp(($after->{ekey_redis_latency_seconds_sum} // 0) > ($before->{ekey_redis_latency_seconds_sum} // 0)
         ? 'grew' : 'same', 'grew', 'Redis latency sum grew');
ok t_cmp($after->{ekey_replay_table_live} >= 1 && $after->{ekey_replay_table_live} <= 4096 ? 'in range' : $after->{ekey_replay_table_live},
         'in range', 'replay table occupancy reported');
ok t_cmp($after->{ekey_replay_table_full_total}, $before->{ekey_replay_table_full_total},
         'no full events');

# The status page for humans and its ?auto form: the same numbers.
my $s = $ua->get("$base/ekey-status");
ok t_cmp($s->code . ' ' . ($s->header('Content-Type') // ''), qr/^200 text\/html/, 'ekey-status: HTML page');
ok t_cmp($s->decoded_content, qr/<h1>E-Key Status for .*<th>tokens minted<\/th><td>$after->{ekey_issuer_tokens_minted_total}<\/td>/s,
         'ekey-status: shows the tokens minted');
my $auto = $ua->get("$base/ekey-status?auto")->decoded_content // '';
my %a = $auto =~ /^(\w+): (\S+)$/mg;
ok t_cmp($a{TokensMinted}, $after->{ekey_issuer_tokens_minted_total}, 'ekey-status?auto: TokensMinted');
ok t_cmp($a{Decisions_allowed},
         $after->{'ekey_decisions_total{decision="allowed",code="none",reason="EKEY_OK"}'},
         'ekey-status?auto: Decisions_allowed');
ok t_cmp($a{ReplayTableCapacity}, 4096, 'ekey-status?auto: ReplayTableCapacity');

# Access: ordinary Require; only GET (and HEAD).
ok t_cmp($ua->get("$base/ekey-metrics-closed")->code, 403, 'Require decides who may scrape');
ok t_cmp($ua->post("$base/ekey-metrics")->code, 405, 'POST to ekey-metrics: 405');
