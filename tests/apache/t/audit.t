# The audit log (issue 4): every decision kind gives one JSON line with time, sub, trace, aud,
# cap, uses left (allowed only), client address and the request id of mod_unique_id (the
# same value the response carries in X-Request-Id, t/conf/ekey-audit.conf.in); never the
# token or the proof.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(plan ok);
use Apache::TestUtil qw(t_cmp);
use JSON::PP ();
use Time::Local qw(timegm);
use EKeyTest;

my $url = base_url() . '/audited';
my $audit = t_root() . '/logs/audit.log';

# Sends, then returns (response, the audit line with this request id as a hash, its text).
sub audited {
    my ($t, $p, %o) = @_;
    my $from = -s $audit || 0;
    my $r = send_req(url => $o{url} // $url, method => $o{method} // 'POST',
                     headers => [['Authorization' => "EKey $t"], defined $p ? (['DPoP' => $p]) : ()]);
    my $id = $r->header('X-Request-Id') // 'none';
    for (1 .. 40) {                          # the line is written after the answer
        open(my $fh, '<', $audit) or last;
        seek($fh, $from, 0);
        for my $l (<$fh>) {
            my $j = eval { JSON::PP->new->decode($l) } or next;
            return ($r, $j, $l) if ($j->{request_id} // '') eq $id;
        }
        select(undef, undef, undef, 0.05);
    }
    return ($r, {}, '');
}
sub iso_ok {
    my ($s) = @_;
    my @f = ($s // '') =~ /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)\.\d{6}Z$/ or return 'bad format';
    my $at = timegm($f[5], $f[4], $f[3], $f[2], $f[1] - 1, $f[0]);
    return abs($at - time) <= 5 ? 'now' : "off by " . ($at - time);
}

my $k = client_key();
my ($t, $c) = token(key => $k, claims => { cap => { action => 'POST:/audited', limit => 2 } });
my $pr = sub { proof($k, 'POST', $url, $t, $c->{trace}, @_) };
my $p1 = $pr->();
my %want = (sub => 'agent-123', trace => $c->{trace}, aud => 'https://api.example.com',
            cap => 'POST:/audited', client => '127.0.0.1', method => 'POST', uri => '/audited',
            bind => 'DPoP');
my @all = sort keys %want;
# An expired token whose signature and other claims are valid is logged with its claims.

my $dir_res;
my @cases = (
    ['allowed', sub { audited($t, $p1) }, 200, \@all,
     { decision => 'allowed', code => undef, uses_left => 1, jkt_prefix => substr(jkt(pub_jwk($k)), 0, 8) }],
    ['replay_blocked (jti)', sub { audited($t, $p1) }, 401, \@all, { decision => 'replay_blocked', code => 'replay_detected' }],
    ['denied (bad proof)', sub { audited($t, $pr->(claims => { htm => 'PUT' })) }, 401, \@all,
     { decision => 'denied', code => 'invalid_proof' }],
    ['expired', sub { my ($te) = token(key => $k, claims => { %$c, iat => time - 400, exp => time - 200 });
                      audited($te, proof($k, 'POST', $url, $te, $c->{trace})) }, 401, \@all,
     { decision => 'expired', code => 'token_expired' }],
    # the token covers the directory's URL, not the index mod_dir looks up for it: the use is
    # taken before that lookup, and the answer (mod_dir's 403) is the lookup's refusal
    ['denied (DirectoryIndex lookup)', sub {
         my ($td, $cd) = token(key => $k, claims => { cap => { action => 'GET:/auditdir/', limit => 1 } });
         my $u = base_url() . '/auditdir/';
         my @got = audited($td, proof($k, 'GET', $u, $td, $cd->{trace}), url => $u, method => 'GET');
         $dir_res = $got[0];
         return @got }, 403, [qw(sub aud client)],
     { decision => 'denied', code => 'capability_mismatch' }],
);
plan tests => @cases * 5 + 2 + 2;

my @texts;
for my $case (@cases) {
    my ($name, $send, $status, $fields, $extra) = @$case;
    my ($r, $j, $text) = $send->();
    push @texts, $text;
    ok t_cmp($r->code . ' ' . ($j->{request_id} ? 'line' : 'no line'), "$status line",
             "$name: status, and an audit line with the response's X-Request-Id");
    ok t_cmp(($r->header('X-Request-Id') // '') =~ /^[\w@-]{20,}$/ ? 'unique_id' : 'other', 'unique_id',
             "$name: the request id is mod_unique_id's");
    ok t_cmp(iso_ok($j->{time}), 'now', "$name: time is ISO 8601 UTC, now");
    ok t_cmp(join('|', map { $j->{$_} // '-' } @$fields), join('|', map { $want{$_} } @$fields),
             "$name: " . join(', ', @$fields));
    my %e = (%$extra);
    $e{uses_left} //= undef;
    ok t_cmp(join('|', map { $_ . '=' . ($j->{$_} // '-') } sort keys %e),
             join('|', map { $_ . '=' . ($e{$_} // '-') } sort keys %e), "$name: decision, code, uses_left");
}
my $all = join '', @texts;
ok t_cmp(index($all, $t) < 0 && index($all, $p1) < 0 && $all !~ /eyJ/ ? 'clean' : 'leak', 'clean',
         'no token, proof or other JWS in the lines');
ok t_cmp(scalar(grep { $_ !~ /\n\z/ || $_ =~ /\n./ } @texts), 0, 'one line each');
ok t_cmp(body_json($dir_res)->{error} // '', 'capability_mismatch',
         'the DirectoryIndex refusal answers our JSON, not httpd\'s page');
ok t_cmp(www_auth($dir_res), qr/error="insufficient_scope"/, '... with the challenge');
