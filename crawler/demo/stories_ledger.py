"""Metro Ledger's stories (fiction: places, people and figures are invented)."""

from __future__ import annotations

from crawler.demo.model import Story, moment
from crawler.demo.stories_planet import WIRE_RATES_PARAGRAPHS

__all__ = ["LEDGER_STORIES"]

# The Ledger's copy of the wire story: new headline, the currency paragraph dropped,
# one sentence reworded and a local paragraph added.
_LEDGER_RATES_PARAGRAPHS = (
    WIRE_RATES_PARAGRAPHS[0],
    "Governor Ilse Marrack said the committee had voted seven to two to hold. Two members "
    "argued for another quarter-point cut, pointing to a sharp weakening in factory orders "
    "since the summer.",
    WIRE_RATES_PARAGRAPHS[2],
    WIRE_RATES_PARAGRAPHS[3],
    "In the city, brokers said first-time buyers in the newer flats around the canal basin "
    "were the group most likely to feel relief, since many of them are on variable deals.",
    WIRE_RATES_PARAGRAPHS[4],
)

LEDGER_STORIES: tuple[Story, ...] = (
    Story(
        site="ledger", slug="quarry-street-library-late-opening", section="city",
        title="Quarry Street library to stay open late three nights a week",
        published=moment("2026-11-21 11:20"), authors=("Dev Kaur",),
        paragraphs=(
            "Quarry Street library will stay open until nine o'clock on Mondays, Wednesdays "
            "and Fridays from January, after a volunteer scheme and a grant from a local "
            "housing trust covered the cost of extra staff.",
            "The branch currently closes at half past five, which users say shuts out "
            "people who work during the day and students who need a quiet place to revise "
            "in the evenings.",
            "More than 900 people signed a petition calling for longer hours last spring. "
            "Librarian Ruth Abernethy said the response had shown how many people rely on "
            "the building for warmth, wifi and company as much as for books.",
            "The late sessions will include a homework club for secondary pupils and a "
            "monthly repair cafe where volunteers fix lamps, toasters and bicycles.",
            "Councillors say they will review visitor numbers after six months before "
            "deciding whether to extend the scheme to the branches in Eastfield and Holme Park.",
        ),
    ),
    Story(
        site="ledger", slug="mill-road-bus-lane-permanent", section="transport",
        title="Mill Road bus lane to become permanent",
        published=moment("2026-11-20 14:05"), authors=("Owen Pryce",),
        paragraphs=(
            "The experimental bus lane on Mill Road will stay after an eighteen-month trial "
            "showed journey times on the number 7 and 12 routes falling by an average of "
            "four minutes at peak times.",
            "The transport committee voted to make the lane permanent despite objections "
            "from shopkeepers, who say that losing parking spaces outside their doors has "
            "cost them passing trade.",
            "Council officers told the meeting that footfall on the road had actually risen "
            "slightly during the trial, according to counters installed on lamp posts, but "
            "acknowledged that some businesses depend on customers arriving by car.",
            "As a compromise, loading bays will be added on two side streets and the lane "
            "will be open to all traffic after seven in the evening and on Sunday mornings.",
            "Bus passengers' group Mill Road Riders welcomed the decision and asked for "
            "similar lanes on the ring road, where buses regularly sit in queues behind "
            "traffic heading for the retail park.",
        ),
    ),
    Story(
        site="ledger", slug="rovers-late-winner-leaders", section="sport",
        title="Metro Rovers snatch late winner against league leaders",
        published=moment("2026-11-15 17:55"), authors=("Sam Okafor",),
        paragraphs=(
            "A header from substitute Callum Reyes three minutes into stoppage time gave "
            "Metro Rovers a 2-1 victory over league leaders Dunmere Athletic at a rain-soaked "
            "Canal End on Saturday.",
            "The visitors had dominated the first half and went ahead when their captain "
            "drove a low shot through a crowded penalty area after 28 minutes. Rovers "
            "goalkeeper Jonas Wick kept the score down with two fine saves before the break.",
            "Manager Lisa Trent changed the shape at half-time, pushing her full-backs "
            "higher, and Rovers levelled on the hour when Tobi Adeyemi turned in a cross "
            "from the left.",
            "Reyes, who had been on the pitch for only nine minutes, met a corner at the "
            "near post for the winner, sending most of the 11,000 crowd into celebrations "
            "that lasted well after the final whistle.",
            "The result lifts Rovers to fifth in the table, four points off the play-off "
            "places, with a trip to struggling Harwick Town next weekend.",
        ),
    ),
    Story(
        site="ledger", slug="lime-trees-avenue-campaign", section="city",
        title="Residents fight plan to fell avenue of lime trees",
        published=moment("2026-11-19 08:45"), authors=("Dev Kaur", "Megan Hollis"),
        paragraphs=(
            "Residents of Beaumont Avenue have started a round-the-clock watch over 34 lime "
            "trees that the council plans to cut down to repair pavements lifted by their "
            "roots.",
            "The trees were planted in 1911 and form one of the few complete avenues left in "
            "the city. Neighbours say the council has not looked seriously at alternatives "
            "such as raised walkways or flexible paving.",
            "Highways officials say the broken pavements are a hazard, especially for "
            "wheelchair users and people with poor eyesight, and that the authority has paid "
            "out in compensation claims after falls on the street.",
            "An arborist hired by the campaign group said most of the trees were healthy and "
            "could live for another century with careful root pruning.",
            "The council has agreed to pause the work until an independent survey reports in "
            "the new year, but campaigners say they will keep their rota going until the "
            "decision is withdrawn in writing.",
        ),
    ),
    Story(
        site="ledger", slug="tram-depot-expansion-delayed", section="transport",
        title="Tram depot expansion delayed by ground survey findings",
        published=moment("2026-11-17 10:30"), authors=("Owen Pryce",),
        paragraphs=(
            "Work to double the size of the Northgate tram depot has been put back by at "
            "least seven months after a ground survey found old mine workings under part of "
            "the site.",
            "The expansion is needed to house twenty new trams ordered for the extension to "
            "the airport, which is due to open in 2028. Without the extra sidings, the new "
            "vehicles would have to be stored at a temporary yard several miles away.",
            "Engineers must now fill the shafts with concrete before the foundations can be "
            "laid. The transport authority estimates the extra cost at around six million.",
            "A spokesperson said the airport line itself remained on schedule because the "
            "first trams could be kept at the existing depot for a few months, with some "
            "older vehicles moved to storage.",
            "Opposition councillors asked why the mine workings had not been found before "
            "the contract was signed, and called for the original site investigation to be "
            "published.",
        ),
    ),
    Story(
        site="ledger", slug="schoolgirl-swimmer-county-record", section="sport",
        title="Schoolgirl swimmer breaks county record twice in one afternoon",
        published=moment("2026-11-09 19:10"), authors=("Sam Okafor",),
        paragraphs=(
            "Fourteen-year-old Amara Lindqvist broke the county record for the 200 metres "
            "butterfly twice in the space of three hours at the winter championships at "
            "Westbrook pool on Sunday.",
            "She lowered the mark in the heats by almost a second and then took another half "
            "second off in the final, finishing more than a length ahead of swimmers several "
            "years older.",
            "Lindqvist trains before school five mornings a week with the Metro Dolphins "
            "club. Her coach, Bernard Oakes, said she had grown several centimetres over the "
            "summer and was finally able to hold her stroke together over the last fifty metres.",
            "The record she beat had stood since 2009 and belonged to a swimmer who went on "
            "to compete at the Commonwealth Games.",
            "Lindqvist said she was most pleased because her grandmother had come to watch "
            "her race for the first time. She will now be invited to a national development "
            "camp in February.",
        ),
    ),
    Story(
        site="ledger", slug="food-bank-record-demand", section="city",
        title="Food bank sees record demand ahead of winter",
        published=moment("2026-11-11 07:50"), authors=("Megan Hollis",),
        paragraphs=(
            "The city's largest food bank handed out more than 4,200 emergency parcels in "
            "October, the highest monthly figure since it opened in a church hall twelve "
            "years ago.",
            "Manager Colin Ferreira said many of the people now coming through the door were "
            "in work, including care assistants and delivery drivers whose hours had been "
            "cut in the autumn.",
            "Donations have not kept pace. Shelves for tinned meat, long-life milk and "
            "toiletries are running low, and the charity has started buying stock for the "
            "first time, using money it had set aside for a new van.",
            "Supermarkets in the city have agreed to place collection trolleys near their "
            "tills until January, and a group of allotment holders has been bringing in "
            "surplus potatoes and cabbages every Saturday.",
            "The food bank also runs a debt advice desk on Tuesdays, where volunteers help "
            "people apply for benefits and negotiate with energy companies. Anyone who wants to "
            "volunteer is asked to call in at the hall on a weekday morning.",
        ),
    ),
    Story(
        site="ledger", slug="electric-hire-bikes-hills", section="transport",
        title="Cycle hire scheme adds electric bikes for hilly districts",
        published=moment("2026-11-06 12:00"), authors=("Owen Pryce",),
        paragraphs=(
            "The city's cycle hire scheme is adding 300 electric bikes and twelve new "
            "docking stations in the steep northern districts, where usage has been a "
            "fraction of that in the flat centre.",
            "Data from the first three years of the scheme showed that riders happily cycled "
            "down from Highfield and Crowhill in the morning but rarely rode back up, "
            "leaving vans to ferry empty bikes uphill every afternoon.",
            "Electric bikes will cost ten pence a minute more than the standard ones, though "
            "annual members will get the first twenty minutes of each ride free.",
            "Operators say the batteries can be swapped at the docks, so the bikes will not "
            "be out of service for long charging sessions.",
            "Cycling campaigners welcomed the move but said the hills would only become "
            "popular routes if protected lanes were built on Crowhill Road, where riders "
            "share a narrow carriageway with buses and lorries. The council says a design for "
            "that road will go out to consultation in the spring.",
        ),
    ),
    Story(
        site="ledger", slug="cricket-pavilion-restored", section="sport",
        title="Cricket club's pavilion restored after arson attack",
        published=moment("2026-11-03 16:20"), authors=("Sam Okafor", "Dev Kaur"),
        paragraphs=(
            "Members of Holme Park Cricket Club gathered on Tuesday evening to reopen their "
            "pavilion, eighteen months after it was gutted in a fire that police treated as "
            "deliberate.",
            "The blaze destroyed the wooden clubhouse along with honours boards dating back "
            "to the 1890s, the club's scorebooks and most of its junior equipment.",
            "Rebuilding cost more than 400,000, most of it raised by members, a sports "
            "charity and a sponsored walk along the canal that drew more than 600 people. "
            "Local tradespeople gave days of work for free.",
            "The new pavilion is built of brick with a timber veranda designed to look like "
            "the original. Volunteers have repainted copies of the old honours boards using "
            "photographs that former players sent in.",
            "Club chair Naomi Briggs said the junior section had grown during the rebuild, "
            "with children playing out of a borrowed shipping container, and now had more "
            "than ninety players. The first match at the new ground is planned for April.",
        ),
    ),
    Story(
        site="ledger", slug="market-hall-rent-freeze", section="city",
        title="Market hall traders win a two-year rent freeze",
        published=moment("2026-11-02 09:15"), authors=("Megan Hollis",),
        paragraphs=(
            "Stallholders at the Victorian market hall have won a two-year freeze on their "
            "rents after warning that a proposed increase of a fifth would force a third of "
            "them to close.",
            "The hall has 86 stalls selling everything from fresh fish to vintage clothing. "
            "Traders say footfall has never fully recovered since the bus station moved to "
            "the other side of the city centre.",
            "Councillors agreed to the freeze on condition that the traders' association "
            "works with the council on late-night openings and a programme of food events in "
            "the central aisle.",
            "Butcher Frank Delaney, whose family has held a stall in the hall since 1952, "
            "said the decision had given people the confidence to invest in new counters "
            "and signs.",
            "A roof repair project worth two million will go ahead next summer, with stalls "
            "moved to a marquee in the square for about eight weeks. Traders have asked for the "
            "work to avoid the weeks before Easter, their busiest time of the spring.",
        ),
    ),
    Story(
        site="ledger", slug="interest-rates-on-hold", section="city",
        title="Borrowers get no relief as rates stay on hold",
        published=moment("2026-11-13 14:30"), authors=("Nordwire",),
        syndication_group="wire-reserve-bank-rates",
        paragraphs=_LEDGER_RATES_PARAGRAPHS,
    ),
    Story(
        site="ledger", slug="christmas-lights-switch-on-date", section="city",
        title="Council confirms date for Christmas lights switch-on",
        published=moment("2026-11-23 11:05"), authors=("Dev Kaur",),
        edition_added=2,
        paragraphs=(
            "The city's Christmas lights will be switched on at six o'clock on Friday 4 "
            "December, with a lantern parade from the cathedral to Victoria Square beforehand.",
            "This year's display will use low-energy bulbs throughout, and the council says "
            "running costs will be about a third of what they were five years ago.",
            "Pupils from eleven primary schools have made paper lanterns in workshops with a "
            "local arts collective, and the parade will be led by a samba band from the "
            "university.",
            "Roads around the square will close from four in the afternoon. Extra buses will "
            "run on the main routes until eleven, and the council is asking families to "
            "avoid driving into the centre.",
            "The identity of the guest who will press the switch is being kept secret, "
            "although organisers hinted that it would be someone from the world of sport. Food "
            "stalls and a small ice rink will stay in the square until the first week of January.",
        ),
    ),
)
