package EKeyCheck;
# One assertion bundle per case. refused(): status, JSON error code, the challenge,
# Cache-Control: no-store, and that the backend was not reached (SECURITY-CASES 0.3).
# allowed(): 200 and exactly one backend hit. Both count a fixed number of assertions so that
# a .t can plan from its case table.
use strict;
use warnings;
use Exporter 'import';
use Apache::Test qw(ok);
use Apache::TestUtil qw(t_cmp);
use EKeyTest;
our @EXPORT = qw(refused allowed no_crashes log_text ASSERTS_REFUSED ASSERTS_ALLOWED);

use constant ASSERTS_REFUSED => 5;
use constant ASSERTS_ALLOWED => 2;

# refused($name, sub { response }, $status, $code, $challenge)
# $challenge: 'invalid_token'   WWW-Authenticate has error="invalid_token"
#             qr/.../           WWW-Authenticate matches
#             undef             a bare EKey challenge (no error attribute, RFC 6750 §3.1)
#             ''                no WWW-Authenticate at all (503)
sub refused {
    my ($name, $send, $status, $code, $chal) = @_;
    my $before = hits();
    my $res = $send->();
    my $body = body_json($res);
    ok t_cmp($res->code, $status, "$name: status");
    ok t_cmp($body->{error} // '', $code, "$name: error code");
    my $wa = www_auth($res);
    if (ref $chal eq 'Regexp') {
        ok t_cmp($wa, $chal, "$name: WWW-Authenticate");
    } elsif (!defined $chal) {
        ok t_cmp($wa =~ /^EKey\b/i && $wa !~ /\berror=/ ? 'bare' : "'$wa'", 'bare',
                 "$name: bare EKey challenge");
    } elsif ($chal eq '') {
        ok t_cmp($wa, '', "$name: no WWW-Authenticate");
    } else {
        ok t_cmp($wa, qr/^EKey\b.*\berror="\Q$chal\E"/i, "$name: WWW-Authenticate error");
    }
    ok t_cmp($res->header('Cache-Control') // '', qr/no-store/, "$name: no-store");
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

# The text of t/logs/NAME, from byte $from on.
sub log_text {
    my ($name, $from) = @_;
    my $f = t_root() . "/logs/$name";
    return '' unless -e $f;
    open(my $fh, '<', $f) or return '';
    seek($fh, $from, 0) if $from;
    local $/;
    return <$fh> // '';
}

# Where error_log stood when this test file started: no_crashes() looks at its own lines.
my $ERRLOG_START = -s (t_root() . '/logs/error_log') || 0;

# One assertion: no child died while this file ran (SECURITY-CASES 0.3 item 3).
sub no_crashes {
    my $bad = join '', grep { /exit signal|AddressSanitizer|runtime error:|Segmentation/ }
                       split /^/, log_text('error_log', $ERRLOG_START);
    ok t_cmp($bad, '', 'no child crashed (error_log)');
}

1;
