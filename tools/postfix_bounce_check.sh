#!/usr/bin/env bash
# A letter through a real Postfix on loopback to a mailbox that does not exist: Postfix accepts
# it, fails local delivery, and sends a real DSN to the letter's bounce address, which
# `mp-mailer inbound` turns into `bounced` on that letter. Then the supporter's notice goes out.
#
# Run as root on Debian or Ubuntu, from the repository, after `make install`:
#   sudo tools/postfix_bounce_check.sh
# It installs Postfix if needed and REWRITES its main.cf (a backup is kept as main.cf.mp-mailer):
# use a throwaway machine or container. Takes about 20 seconds once Postfix is installed.
set -euo pipefail

cd "$(dirname "$0")/.."
BIN=.venv/bin
[ -x "$BIN/mp-mailer" ] || { echo "Run make install first."; exit 2; }

if ! command -v postfix >/dev/null; then
    echo "postfix postfix/main_mailer_type select Local only" | debconf-set-selections
    echo "postfix postfix/mailname string relay.test" | debconf-set-selections
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q postfix >/dev/null
fi

# The supporter's mailbox: a file Postfix's local agent appends to (it delivers as nobody).
NOTICE_BOX=/var/tmp/mp-mailer-supporter.mbox
: >"$NOTICE_BOX"
chmod 666 "$NOTICE_BOX"

[ -f /etc/postfix/main.cf.mp-mailer ] || cp /etc/postfix/main.cf /etc/postfix/main.cf.mp-mailer
# mp.test is the MPs' "local domain": any recipient is accepted at RCPT (local_recipient_maps
# empty), so an unknown mailbox fails after acceptance and Postfix writes a DSN, as a real
# parliament server behind a gateway would. bounce.test is where DSNs go: mp-mailer inbound.
postconf -e \
    "myhostname = relay.test" \
    "mydestination = mp.test, localhost" \
    "inet_interfaces = loopback-only" \
    "inet_protocols = ipv4" \
    "mynetworks = 127.0.0.0/8" \
    "local_recipient_maps =" \
    "transport_maps = inline:{bounce.test=smtp:[127.0.0.1]:2526}" \
    "smtp_tls_security_level = none" \
    "smtputf8_enable = no" \
    "alias_maps = inline:{supporter=$NOTICE_BOX}" \
    "maillog_file = /var/log/postfix.log" \
    "alias_database ="
postfix check
(postfix status >/dev/null 2>&1 && postfix reload >/dev/null 2>&1) || postfix start >/dev/null 2>&1

WORK=$(mktemp -d)
trap 'kill $INBOUND 2>/dev/null || true; rm -rf "$WORK"' EXIT
export SECRET_KEY=postfix-check-secret-0123456789
export DATABASE_URL="sqlite:///$WORK/check.sqlite3"
export MAIL_FROM="Free Tibet <campaigns@relay.test>"
export SMTP_HOST=127.0.0.1 SMTP_PORT=25 SMTP_SECURITY=none
export BOUNCE_ADDRESS=bounces@bounce.test INBOUND_SMTP_HOST=127.0.0.1 INBOUND_SMTP_PORT=2526
export LOG_LEVEL=WARNING

$BIN/mp-mailer init-db >/dev/null
LETTER_ID=$($BIN/python - <<'PY'
from mp_mailer import create_app
from mp_mailer.db import utcnow
from mp_mailer.email_messages import new_message_id
from mp_mailer.models import Campaign, Letter, LetterStatus
from sqlalchemy import select

app = create_app()
with app.extensions["mp_mailer.session_factory"]() as session:
    campaign = session.scalars(select(Campaign)).first()
    now = utcnow()
    letter = Letter(
        campaign_id=campaign.id, template_id=campaign.templates[-1].id,
        status=LetterStatus.QUEUED, mp_id=172, mp_name="Ms Nobody",
        mp_email="no-such-mailbox@mp.test", constituency_id=4074,
        constituency_name="Nowhere", supporter_name="Jane Doe",
        supporter_email="supporter@mp.test", supporter_address="1 High Street\nLondon",
        supporter_postcode="SW1A 1AA", subject="Please sanction Chen Quanguo",
        body="Dear Ms Nobody,\n\nPlease press for sanctions.",
        message_id=new_message_id("relay.test"), created_at=now, next_attempt_at=now,
    )
    session.add(letter)
    session.commit()
    print(letter.id)
PY
)

$BIN/mp-mailer inbound >"$WORK/inbound.log" 2>&1 &
INBOUND=$!
sleep 2
$BIN/mp-mailer worker --once

status() {
    $BIN/python - "$LETTER_ID" <<'PY'
import sys
from mp_mailer import create_app
from mp_mailer.models import Letter
app = create_app()
with app.extensions["mp_mailer.session_factory"]() as session:
    letter = session.get(Letter, int(sys.argv[1]))
    print(letter.status.value, "|", letter.bounce_reason or "", "|", letter.notice_sent_at or "")
PY
}

for _ in $(seq 1 30); do
    case "$(status)" in bounced*) break ;; esac
    postqueue -f >/dev/null 2>&1 || true
    sleep 1
done
RESULT=$(status)
echo "Letter $LETTER_ID: $RESULT"
case "$RESULT" in
    bounced*) ;;
    *) echo "FAIL: the letter was not marked bounced"; tail -20 /var/log/postfix.log 2>/dev/null || true; exit 1 ;;
esac

# The supporter's notice, through the same relay, to the local mailbox supporter@mp.test.
$BIN/mp-mailer worker --once
for _ in $(seq 1 15); do
    grep -q "did not arrive" "$NOTICE_BOX" 2>/dev/null && break
    sleep 1
done
echo "Letter $LETTER_ID: $(status)"
if grep -q "Subject: Your letter to Ms Nobody did not arrive" "$NOTICE_BOX"; then
    echo "OK: real DSN from Postfix -> bounced, and the supporter's notice is in $NOTICE_BOX"
else
    echo "FAIL: no notice in $NOTICE_BOX"; exit 1
fi
