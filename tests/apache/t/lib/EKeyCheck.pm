package EKeyCheck;
# One assertion bundle per negative case: status, JSON error code, challenge attribute,
# Cache-Control on 401/403, and that the backend was not reached.
use strict;
use warnings;
use Exporter 'import';
use Apache::Test qw(ok);
use Apache::TestUtil qw(t_cmp);
use EKeyTest;
our @EXPORT = qw(refused allowed ASSERTS_REFUSED ASSERTS_ALLOWED);

use constant ASSERTS_REFUSED => 5;
use constant ASSERTS_ALLOWED => 2;

# refused($name, sub { response }, $status, $code, $challenge_error_or_undef)
sub refused {
    my ($name, $send, $status, $code, $chal) = @_;
    my $before = hits();
    my $res = $send->();
    my $body = body_json($res);
    ok t_cmp($res->code, $status, "$name: status");
    ok t_cmp($body->{error} // '', $code, "$name: error code");
    my $wa = www_auth($res);
    if (defined $chal) {
        ok t_cmp($wa, qr/error="\Q$chal\E"/, "$name: WWW-Authenticate error");
    } else {
        ok t_cmp($wa =~ /error=/ ? 'has error' : 'no error', 'no error',
                 "$name: challenge without error");
    }
    if ($status == 401 || $status == 403) {
        ok t_cmp($res->header('Cache-Control') // '', qr/no-store/, "$name: no-store");
    } else {
        ok 1;
    }
    ok t_cmp(hits(), $before, "$name: backend not reached");
    return $res;
}

sub allowed {
    my ($name, $send) = @_;
    my $before = hits();
    my $res = $send->();
    ok t_cmp($res->code, 200, "$name: status");
    ok t_cmp(hits(), $before + 1, "$name: backend reached once");
    return $res;
}

1;
