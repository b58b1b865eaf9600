"""The first campaign, Free Tibet's Ban Chen Quanguo, written into a new database by init-db."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from mp_mailer.db import transaction
from mp_mailer.models import Campaign, CampaignStatus, LetterTemplate

BAN_CHEN_SLUG = "ban-chen-quanguo"

INTRO = """\
**Chen Quanguo built a police state in Tibet, then did it again to the Uyghurs.**

From 2011 to 2016 Chen ran the Tibet Autonomous Region for the Chinese Communist Party. After the
2008 protests he was sent to make sure Tibetans never rose again: checkpoints and police posts on
every street, and surveillance technology reaching into daily life.

Beijing rewarded him with Xinjiang, the land Uyghurs call East Turkestan, where he applied the same
methods at greater scale. At least a million Uyghurs and Kazakhs were detained in camps, with
evidence of forced labour and of a campaign against their faith and culture.

The United States has already sanctioned Chen. The UK has not. Ask your MP to press the government
to add him to the UK's global human rights sanctions list and to bar him from entering the UK.
"""

SUBJECT = "Please press for UK sanctions on Chen Quanguo"

BODY = """\
Dear {{ mp.address_as }},

I am writing to you as a constituent in {{ constituency }} to ask for your help in holding Chen \
Quanguo to account for grave human rights abuses against Tibetans and Uyghurs.

As Communist Party Secretary of the Tibet Autonomous Region from 2011 to 2016, Chen oversaw a \
security crackdown that placed Tibetans under constant watch: dense networks of police posts, \
checkpoints and intrusive surveillance. He was then moved to Xinjiang, where the same system was \
expanded into the mass detention of at least a million Uyghurs and Kazakhs, alongside credible \
evidence of forced labour and the suppression of religion and culture.

The United States has already imposed sanctions on Chen. The UK has not, although our global human \
rights sanctions regime exists for cases like his.

I would be grateful if you would:
- urge the Foreign Secretary to add Chen Quanguo to the UK's global human rights sanctions list; and
- ask the Home Office to ban him from entering the UK.

Acting would show Beijing that abuses against Tibetans and Uyghurs carry consequences, and would \
encourage other countries to follow. I would welcome your reply setting out what you will do.
"""

THANK_YOU = """\
Thank you for writing to your MP. Letters from constituents are read, and they are counted:
every one makes it harder for the government to look away. Please ask a friend to write too.
"""

SHARE = (
    "I've just written to my MP asking the UK to sanction Chen Quanguo, architect of repression in "
    "Tibet and East Turkestan. Will you write too?"
)

PETITION_URL = "https://freetibet.org/take-action/ban-chen"
DESCRIPTION = (
    "Chen Quanguo built a police state in Tibet, then in East Turkestan. The US has sanctioned "
    "him; the UK has not. Ask your MP to press for UK sanctions."
)


def seed_first_campaign(session: Session) -> bool:
    """Create the Ban Chen Quanguo campaign if it is not there; True if it was created."""
    if session.scalar(select(Campaign.id).where(Campaign.slug == BAN_CHEN_SLUG)) is not None:
        return False
    with transaction(session):
        campaign = Campaign(
            slug=BAN_CHEN_SLUG,
            title="Ban Chen Quanguo",
            status=CampaignStatus.LIVE,
            intro_markdown=INTRO,
            thank_you_text=THANK_YOU,
            share_text=SHARE,
            petition_url=PETITION_URL,
            meta_description=DESCRIPTION,
            # The campaign's own petition is the natural next step after writing.
            next_ask_text="Sign the petition to the Foreign Secretary",
            next_ask_url=PETITION_URL,
            is_default=session.scalar(select(Campaign.id).where(Campaign.is_default)) is None,
        )
        session.add(campaign)
        session.flush()
        session.add(
            LetterTemplate(
                campaign_id=campaign.id,
                version=1,
                subject_template=SUBJECT,
                body_template=BODY,
                note="first version",
            )
        )
    return True
