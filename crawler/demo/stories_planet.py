"""The Daily Planet's stories (fiction: places, people and figures are invented)."""

from __future__ import annotations

from crawler.demo.model import Story, moment

__all__ = ["PLANET_STORIES", "WIRE_RATES_PARAGRAPHS"]

# A wire-agency story the Planet runs nearly verbatim; the Ledger runs an edited copy.
WIRE_RATES_PARAGRAPHS = (
    "The Northland Reserve Bank kept its main interest rate at 3.75 percent on Thursday, "
    "pausing after four consecutive cuts and telling households that borrowing costs were "
    "unlikely to fall again before the spring.",
    "Governor Ilse Marrack said the committee had voted seven to two to hold. The two "
    "dissenting members wanted a further quarter-point reduction, arguing that factory "
    "orders had weakened sharply since the summer.",
    "Inflation rose to 2.9 percent in October, driven mostly by energy bills and the cost of "
    "imported fruit and vegetables. The bank's own forecast shows it drifting back towards "
    "the two percent target by the end of next year.",
    "Mortgage lenders had largely expected the decision, and several said their fixed-rate "
    "offers would not change this week. Estate agents reported that buyers were still "
    "cautious, with viewings down on last autumn.",
    "Economists were split on what comes next. Some expect a cut in February if "
    "unemployment keeps creeping up, while others think the bank will wait to see how wage "
    "settlements in the public sector play out.",
    "The currency edged higher against the euro after the announcement, and shares in the "
    "two largest retail banks closed slightly up.",
)

PLANET_STORIES: tuple[Story, ...] = (
    Story(
        site="planet", slug="council-budget-vote", section="business",
        title="Regional council approves leaner budget after late-night vote",
        published=moment("2026-11-20 07:30"), authors=("Hannah Oyelaran",),
        keywords=("budget", "local government", "Kelmoor"),
        paragraphs=(
            "Kelmoor regional council approved a budget shortly before midnight on Wednesday "
            "that trims spending on roads and parks while protecting money for school "
            "transport and elderly care.",
            "The vote followed six hours of debate in which opposition members tabled more "
            "than forty amendments. Only two passed, one restoring the grant for rural "
            "libraries and another delaying the closure of a recycling centre in Brackwater.",
            "The final budget passed by 31 votes to 24, with three abstentions, after the "
            "ruling coalition persuaded two independent councillors to back it.",
            "Council leader Morwenna Ashe said the region had been forced to find savings of "
            "eighteen million after a fall in central grants. She told the chamber that "
            "nobody had entered politics to cut bus shelters, but that the books had to balance.",
            "Residents' groups had gathered outside the council offices with placards "
            "opposing a plan to switch off a third of the street lights between one and five "
            "in the morning. That proposal survived, although it will now be trialled in "
            "four districts before any wider rollout.",
            "Council tax will rise by 4.5 percent from April, the maximum allowed without a "
            "local referendum.",
        ),
    ),
    Story(
        site="planet", slug="coral-volcanic-vents", section="science",
        title="Deep-sea survey finds coral thriving near volcanic vents",
        published=moment("2026-11-19 10:15"), modified=moment("2026-11-19 16:40"),
        authors=("Tomas Feld", "Priya Ramaswamy"),
        keywords=("oceans", "coral", "marine biology"),
        paragraphs=(
            "A remotely operated submarine has filmed dense gardens of cold-water coral "
            "growing on the flanks of an undersea volcano, surprising scientists who expected "
            "the acidic water there to dissolve their skeletons.",
            "The survey, run from the research ship Halcyon, spent nineteen days mapping a "
            "seamount roughly 400 kilometres off the western coast. At depths between 600 and "
            "900 metres the cameras found colonies of bamboo coral several metres across.",
            "Chief scientist Dr Amaka Brennan said the colonies appeared to sit just outside "
            "the plumes of warm, mineral-rich water escaping from the vents. Currents carry "
            "food past them while keeping the most corrosive water away, she suggested.",
            "Samples brought to the surface will be dated in the laboratory. If the largest "
            "colonies prove to be centuries old, the site could help researchers understand "
            "how deep reefs cope with a gradually souring ocean.",
            "The team also recorded an octopus species that may be new to science, and a "
            "rusting anchor that appears to date from the nineteenth century.",
            "Conservation groups want the seamount protected from bottom trawling, which "
            "still takes place on neighbouring ridges.",
        ),
    ),
    Story(
        site="planet", slug="river-towns-evacuated", section="world",
        title="Flooding forces evacuation of river towns in the northern valleys",
        published=moment("2026-11-18 06:05"), authors=("Lukas Brandt",),
        keywords=("floods", "weather", "emergency"),
        paragraphs=(
            "Several thousand people left their homes overnight as the Avern and two of its "
            "tributaries burst their banks after four days of almost continuous rain in the "
            "northern valleys.",
            "Emergency crews used inflatable boats to reach families in the lower streets of "
            "Stennis and Marlow Bridge, where water reached the first floor of some houses by "
            "dawn. Schools in both towns have been turned into reception centres.",
            "The regional weather service issued its highest warning late on Monday and said "
            "a further 60 millimetres could fall on saturated hillsides before the system "
            "moves east on Wednesday.",
            "Farmers described losing livestock that could not be moved in time. One sheep "
            "farmer near Ollerby said he had watched the river take a stone wall that had "
            "stood for two hundred years.",
            "Rail services through the valley are suspended because a culvert has collapsed "
            "under the line, and engineers say repairs will take at least a week once the "
            "water recedes.",
            "The interior ministry has promised emergency payments to households forced out "
            "of their homes, to be paid within ten days of an application.",
        ),
    ),
    Story(
        site="planet", slug="wind-assisted-cargo-ships", section="business",
        title="Shipping firm orders twelve wind-assisted cargo vessels",
        published=moment("2026-11-17 09:00"), authors=("Grace Achterberg",),
        keywords=("shipping", "emissions", "wind power"),
        paragraphs=(
            "Halvard Lines has placed an order for twelve bulk carriers fitted with rigid "
            "sails, the largest commitment yet by a mainstream operator to harnessing wind on "
            "long ocean routes.",
            "Each ship will carry four folding wing sails, roughly the height of a ten-storey "
            "building, mounted on the deck. The company says they should cut fuel use by "
            "between a fifth and a quarter on Atlantic crossings.",
            "Chief executive Ragna Solheim said customers, especially grain traders and car "
            "makers, were increasingly asking for lower-carbon freight and were prepared to "
            "sign longer contracts to get it.",
            "The vessels will be built at a yard in the south of the country, securing work "
            "for about 1,500 people until the end of the decade. The first is due to be "
            "delivered in 2029.",
            "Analysts said the sails remained expensive to install, but that rising charges "
            "for emissions under international shipping rules had narrowed the gap. Older "
            "ships in the Halvard fleet will be sold or scrapped as the new ones arrive.",
        ),
    ),
    Story(
        site="planet", slug="urban-foxes-sleep", section="science",
        title="Researchers track the night lives of urban foxes with GPS collars",
        published=moment("2026-11-16 12:20"), authors=("Priya Ramaswamy",),
        keywords=("wildlife", "foxes", "cities"),
        paragraphs=(
            "City foxes sleep in short bursts scattered across the day and rarely use the "
            "same den for more than a week, according to a study that followed 38 animals "
            "fitted with lightweight GPS collars.",
            "Biologists at the University of Ranfurly tracked the foxes for fourteen months "
            "across three neighbourhoods with very different layouts: a Victorian terrace "
            "district, a post-war estate with large green spaces, and an industrial zone "
            "beside the railway.",
            "Foxes in the terraced streets travelled the furthest each night, often crossing "
            "dozens of back gardens, while those on the estate kept to small territories "
            "centred on overgrown embankments.",
            "Accelerometers in the collars showed that the animals were least active between "
            "ten in the morning and two in the afternoon, but they would wake quickly when "
            "bins were emptied or schoolchildren passed.",
            "Lead author Dr Felix Ambrose said the results challenged the idea that urban "
            "foxes were simply lazy scavengers. They were planning routes around traffic "
            "patterns, he said, and seemed to know which days the refuse lorries came.",
        ),
    ),
    Story(
        site="planet", slug="border-rail-link-reopens", section="world",
        title="Border rail link reopens after eight-year closure",
        published=moment("2026-11-14 15:45"), authors=("Lukas Brandt", "Elif Sarac"),
        keywords=("rail", "transport", "borders"),
        paragraphs=(
            "Passenger trains crossed the border between Tarnow Junction and Velika Polje on "
            "Friday for the first time in eight years, after a rebuilt bridge and a new "
            "signalling system were finally completed.",
            "The line closed after a landslide damaged the old iron bridge, and a dispute "
            "between the two countries over who should pay for the replacement kept it shut "
            "long after engineers had drawn up plans.",
            "The first train carried officials, schoolchildren and a brass band, and was met "
            "at Velika Polje by a crowd waving flags of both nations. Passengers said the "
            "journey, previously a three-hour bus ride, now takes 55 minutes.",
            "Regular services will start on Monday with six return trips a day. Passport "
            "checks will be carried out on board rather than at the platform so that trains "
            "do not have to wait at the border.",
            "Local businesses on both sides hope the link will bring back weekend visitors. "
            "A hotel owner in Tarnow said bookings for the Christmas market had doubled since "
            "the reopening date was announced.",
        ),
    ),
    Story(
        site="planet", slug="bookshops-best-autumn", section="business",
        title="Independent bookshops report their best autumn in a decade",
        published=moment("2026-11-12 08:10"), authors=("Grace Achterberg",),
        keywords=("retail", "books", "small business"),
        paragraphs=(
            "Independent bookshops have had their strongest autumn trading in ten years, "
            "helped by a run of popular novels and a revival of in-store events, the "
            "Booksellers' Guild said.",
            "Sales at member shops were up eleven percent on the same period last year. "
            "Shops that host readings, book clubs or children's story hours did notably "
            "better than those that do not.",
            "Ottilie Marsh, who runs a small shop in the market town of Fenbury, said she "
            "had sold more copies of a debut crime novel set in the local marshes than any "
            "book since she opened fifteen years ago.",
            "The guild said the number of independent shops had risen for the fourth "
            "consecutive year, with forty new openings in 2026, many of them combining books "
            "with coffee or second-hand records.",
            "It warned, however, that higher business rates from next spring could wipe out "
            "the gains for shops on high streets where property values have climbed, and "
            "called for a relief scheme similar to the one offered to pubs.",
        ),
    ),
    Story(
        site="planet", slug="glacier-retreat-slowed", section="science",
        title="Satellite data shows glacier retreat slowed in a wet summer",
        published=moment("2026-11-10 11:00"), authors=("Tomas Feld",),
        keywords=("climate", "glaciers", "satellites"),
        paragraphs=(
            "Alpine glaciers lost less ice this year than in any of the previous five, "
            "according to satellite measurements, but scientists cautioned that one cool, "
            "wet summer does not reverse a long decline.",
            "Radar images collected between June and September showed that the snow line "
            "stayed unusually low for much of the season. Fresh snowfall in late July "
            "protected the darker ice beneath from the strongest sunshine.",
            "The Hollinger glacier, which lost almost four metres of thickness in 2022, "
            "thinned by about ninety centimetres this year. Smaller glaciers at lower "
            "altitudes fared worse and two of them have now broken into separate patches.",
            "Glaciologist Dr Sunniva Karlsen said the figures were welcome but should be "
            "read alongside a century of measurements. The overall direction is "
            "unmistakable, she said, and a single kinder year barely registers on that chart.",
            "The monitoring programme will add drone surveys next summer to check the "
            "satellite readings on the steepest ice falls.",
        ),
    ),
    Story(
        site="planet", slug="island-constitution-election", section="world",
        title="Island nation holds first election under new constitution",
        published=moment("2026-11-08 18:30"), authors=("Elif Sarac",),
        keywords=("elections", "constitution", "islands"),
        paragraphs=(
            "Voters in the Serrano Islands went to the polls on Sunday in the first "
            "election since a new constitution replaced the appointed upper house with an "
            "elected senate.",
            "Long queues formed outside polling stations on the main island from early "
            "morning, and the electoral commission extended voting by an hour in two "
            "fishing villages where boats carrying ballot boxes were delayed by rough seas.",
            "Turnout was estimated at 78 percent. The governing Harbour Party is expected to "
            "keep control of the lower chamber, but the contest for the twelve senate seats "
            "is considered far more open.",
            "Several candidates campaigned on the cost of ferry tickets between the islands, "
            "which rose sharply after the state operator lost a subsidy last year. Others "
            "focused on water shortages during the dry season.",
            "Observers from a regional democracy body described the vote as orderly. Final "
            "results are expected on Wednesday because ballots from the outer islands must "
            "be flown to the capital for counting.",
        ),
    ),
    Story(
        site="planet", slug="cocoa-harvest-chocolate-prices", section="business",
        title="Chocolate makers warn of price rises as cocoa harvest falls",
        published=moment("2026-11-05 13:25"), authors=("Hannah Oyelaran", "Grace Achterberg"),
        keywords=("food", "commodities", "prices"),
        paragraphs=(
            "Chocolate could cost shoppers up to fifteen percent more by Easter after a poor "
            "cocoa harvest in West Africa sent bean prices back towards record highs, "
            "manufacturers said.",
            "Heavy rain early in the growing season encouraged a fungal disease that rots "
            "pods on the tree, and farmers in several regions reported yields down by a "
            "third on last year.",
            "The Confectioners' Federation said its members had already absorbed two rounds "
            "of cost increases and could not hold prices much longer. Some have reduced bar "
            "sizes instead, a practice consumer groups criticise as hard to notice.",
            "Smaller chocolatiers say they are hit hardest because they cannot buy beans "
            "months in advance. A maker in the old town of Aldstedt said she had switched to "
            "a darker recipe that needs less sugar but more cocoa, which has not helped.",
            "Traders expect the next main harvest, which begins in October next year, to be "
            "larger, but warned that ageing trees on many farms will limit any recovery.",
        ),
    ),
    Story(
        site="planet", slug="reserve-bank-holds-rates", section="business",
        title="Reserve bank holds interest rates at 3.75 percent",
        published=moment("2026-11-13 12:05"), authors=("Nordwire staff",),
        keywords=("interest rates", "economy", "central bank"),
        syndication_group="wire-reserve-bank-rates",
        paragraphs=WIRE_RATES_PARAGRAPHS,
    ),
    Story(
        site="planet", slug="night-train-coast-returns", section="world",
        title="Night train to the coast will return in spring",
        published=moment("2026-11-23 09:40"), authors=("Lukas Brandt",),
        keywords=("rail", "travel", "tourism"),
        edition_added=2,
        paragraphs=(
            "A sleeper train linking the capital with the southern coast will run again "
            "from April, nine years after the service was withdrawn for lack of passengers.",
            "The operator, a partnership between two private companies and the state "
            "railway, has refurbished fourteen carriages built in the 1980s. Each now has "
            "compartments for two or four people, a lounge car and a small dining counter.",
            "Trains will leave the capital at ten at night and reach Port Selva shortly after "
            "seven the following morning, three nights a week at first and daily during the "
            "summer holidays.",
            "Fares will start at 49 for a reclining seat and rise to about 190 for a private "
            "compartment with a washbasin. The operator says it needs the carriages to be "
            "two-thirds full to cover its costs.",
            "Tourism officials on the coast said the service would bring visitors who no "
            "longer want to fly short distances, and hoped it would run into the autumn to "
            "extend the season.",
        ),
    ),
)
