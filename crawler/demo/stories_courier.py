"""Evening Courier's stories (fiction: places, people and figures are invented)."""

from __future__ import annotations

from crawler.demo.model import CET, Story, moment

__all__ = ["COURIER_STORIES"]

COURIER_STORIES: tuple[Story, ...] = (
    Story(
        site="courier", slug="mayor-confidence-vote-housing", section="politics",
        title="Mayor faces confidence vote over housing contracts",
        published=moment("2026-11-21 18:40", CET), authors=("Beatrix Lomond",),
        paragraphs=(
            "Mayor Gideon Harcastle will face a vote of no confidence next week after "
            "leaked emails suggested that housing repair contracts worth 30 million were "
            "awarded without a proper tender.",
            "The emails, seen by the Courier, show a senior official asking colleagues to "
            "speed up approval for a firm whose director had donated to the mayor's election "
            "campaign.",
            "Harcastle denies any wrongdoing and says he had no role in choosing contractors. "
            "In a statement he said he welcomed an independent review and would cooperate "
            "with it fully.",
            "Opposition groups need the support of at least five members of the mayor's own "
            "party for the motion to pass. Two have already said publicly that they cannot "
            "defend the process.",
            "Tenants on the Larkfield estate, where much of the repair work was carried out, "
            "say damp and mould problems reported years ago remain unresolved. Some have "
            "organised a protest outside the town hall before the vote.",
            "If the mayor loses, the council would have to appoint an interim leader until a "
            "by-election can be held in the spring.",
        ),
    ),
    Story(
        site="courier", slug="silent-film-attic-live-score", section="culture",
        title="Lost silent film found in attic to be screened with live score",
        published=moment("2026-11-19 20:15", CET), authors=("Imogen Strand",),
        paragraphs=(
            "A silent comedy thought to have been lost for a century will be shown at the "
            "Regent cinema next month, after a reel was found in a biscuit tin in an attic "
            "during a house clearance.",
            "The film, a thirty-minute farce about a travelling dentist, was made in 1923 by "
            "a small studio that operated from a former tram shed on the edge of the city. "
            "No copy was known to survive.",
            "Archivists at the national film collection spent eight months restoring the "
            "nitrate reel, which had shrunk and cracked in places. Around four minutes of "
            "footage could not be saved.",
            "The screening will be accompanied by a new score written by composer Harriet "
            "Vale and performed by a quartet of piano, clarinet, violin and percussion.",
            "The family who found the reel believe it belonged to a great-grandfather who "
            "worked as a projectionist. They have been invited to the premiere and will "
            "donate the original tin to the archive.",
        ),
    ),
    Story(
        site="courier", slug="nurse-led-triage-waiting-times", section="health",
        title="Hospital trial cuts emergency waiting times with nurse-led triage",
        published=moment("2026-11-18 09:30", CET), authors=("Dr Reuben Salk", "Anya Petrakis"),
        paragraphs=(
            "Patients at St Columba's Hospital are spending an average of 50 minutes less in "
            "the emergency department since senior nurses began assessing everyone at the "
            "front door, a six-month trial has found.",
            "Under the old system patients registered at a desk and then waited to be seen by "
            "a junior doctor. Now an experienced nurse sees them within fifteen minutes and "
            "can order blood tests, X-rays or pain relief straight away.",
            "About a fifth of patients are redirected to a pharmacy, a walk-in clinic or a "
            "next-day appointment with their own doctor, freeing up cubicles for people who "
            "are seriously ill.",
            "Consultant Dr Fiona Eaves said the biggest change was in the waiting room "
            "atmosphere. People are less anxious when someone has looked at them early, she "
            "said, even if they still have to wait for treatment.",
            "The hospital trust plans to extend the scheme to its second site in the new "
            "year, but warned that it depends on recruiting twelve more senior nurses.",
        ),
    ),
    Story(
        site="courier", slug="voting-age-local-elections", section="politics",
        title="Opposition unveils plan to lower voting age in local elections",
        published=moment("2026-11-16 12:00", CET), authors=("Beatrix Lomond",),
        paragraphs=(
            "Sixteen and seventeen-year-olds would be able to vote in council elections under "
            "proposals published on Monday by the opposition Reform and Renewal group.",
            "The group says young people already pay tax on part-time earnings and are "
            "affected by local decisions on buses, youth centres and sports facilities, but "
            "have no say in choosing the councillors who make them.",
            "Under the plan, schools would run registration drives each autumn and polling "
            "stations would be set up in sixth-form colleges on election day.",
            "The governing party has not ruled the idea out but says it wants to see evidence "
            "from neighbouring regions that lowered the age five years ago. Turnout among "
            "the youngest voters there started high but has fallen at each election since.",
            "A youth parliament debate on the subject last month ended in a narrow vote in "
            "favour, with several members arguing that better citizenship lessons mattered "
            "more than the age limit itself.",
        ),
    ),
    Story(
        site="courier", slug="sign-language-theatre", section="culture",
        title="Theatre company stages a play entirely in sign language",
        published=moment("2026-11-14 19:05", CET), authors=("Imogen Strand",),
        paragraphs=(
            "The Lantern Theatre is staging its first production performed entirely in sign "
            "language, with spoken English provided for hearing audience members through "
            "headsets rather than the other way round.",
            "The play follows three generations of a deaf family running a boatyard on the "
            "estuary, and was written by Corin Maddox, who grew up in a similar household.",
            "Director Sadie Qureshi said the aim was to put deaf actors at the centre of the "
            "stage instead of at the side, where interpreters usually stand during "
            "accessible performances.",
            "Rehearsals took longer than usual because movement and signing had to be "
            "choreographed together, and the set was designed so that actors' hands are "
            "visible from every seat in the auditorium.",
            "Early performances have sold out, and the theatre has added a week of matinees. "
            "A touring version is planned for next autumn, and a filmed performance will be "
            "released with captions for schools that cannot bring pupils to the theatre.",
        ),
    ),
    Story(
        site="courier", slug="pharmacy-blood-pressure-checks", section="health",
        title="Pharmacies to offer walk-in blood pressure checks",
        published=moment("2026-11-12 08:20", CET), authors=("Anya Petrakis",),
        paragraphs=(
            "Adults over forty will be able to walk into any of 140 pharmacies in the region "
            "for a free blood pressure check from next month, under a scheme intended to "
            "catch heart disease earlier.",
            "Health officials estimate that tens of thousands of people in the region have "
            "high blood pressure without knowing it, because it rarely causes symptoms until "
            "damage has already been done.",
            "Pharmacists will take two readings in a private consultation room. Anyone with a "
            "high result will be lent a home monitor for a week and referred to their doctor "
            "if the readings stay high.",
            "The pharmacists' association welcomed the scheme but said many shops were short "
            "of staff and would need more funding to keep the service running beyond the "
            "first year.",
            "A similar pilot in two towns last year found high readings in one in six people "
            "who came forward, many of whom had not visited a doctor for several years.",
        ),
    ),
    Story(
        site="courier", slug="flooded-farms-compensation", section="politics",
        title="Ministers agree compensation scheme for flooded farms",
        published=moment("2026-11-10 15:50", CET), authors=("Beatrix Lomond", "Tobias Wren"),
        paragraphs=(
            "Farmers whose fields were flooded in last winter's storms will be able to claim "
            "up to 25,000 each for lost crops and damaged land, the agriculture ministry "
            "announced on Tuesday.",
            "The scheme follows months of pressure from farming unions, who said many "
            "growers along the lower Tarran had been left with fields covered in silt and "
            "gravel that will take years to restore.",
            "Claims will be assessed using satellite images of the flooded area, which the "
            "ministry says will speed up payments and reduce the need for inspections.",
            "Some farmers said the cap was too low for large arable holdings, where the cost "
            "of clearing debris and replacing drainage can run into hundreds of thousands.",
            "The ministry also promised to review how much land along the river should be "
            "allowed to flood deliberately in future to protect towns downstream, with "
            "payments for farmers who agree to take part. Applications open on the first of "
            "December and close at the end of March.",
        ),
    ),
    Story(
        site="courier", slug="museum-returns-carved-drum", section="culture",
        title="Museum returns carved drum to its community of origin",
        published=moment("2026-11-07 11:30", CET), authors=("Imogen Strand",),
        paragraphs=(
            "The city museum has handed back a ceremonial drum that was taken from a village "
            "in the Pacific more than a century ago, in a ceremony attended by elders who "
            "travelled for three days to collect it.",
            "The drum, carved from a single trunk and decorated with images of birds and "
            "fish, was brought to the city by a missionary in 1898 and had been on display "
            "in the ethnography gallery since the 1930s.",
            "Museum director Lionel Achebe said research had shown that it was removed "
            "without the consent of the community, for whom it marks the start of the "
            "fishing season.",
            "The elders performed a short song before the drum was wrapped for the journey. "
            "One of them said its return would allow young people in the village to learn "
            "rhythms that had only survived in recordings.",
            "The museum is reviewing the history of around 2,000 other objects in its "
            "collection and has published an online list inviting communities to contact it.",
        ),
    ),
    Story(
        site="courier", slug="short-commutes-better-sleep", section="health",
        title="Study links shorter commutes to better sleep",
        published=moment("2026-11-04 07:45", CET), authors=("Dr Reuben Salk",),
        paragraphs=(
            "People who spend less than half an hour travelling to work sleep on average "
            "twenty minutes longer each night than those with commutes of over an hour, "
            "researchers have found.",
            "The study followed 3,400 office and factory workers for two years, using "
            "wrist-worn sensors to measure sleep and a smartphone app to record journeys.",
            "The effect was strongest for people who drove in heavy traffic, and weakest for "
            "those who walked or cycled, even when their journeys took just as long.",
            "Lead researcher Dr Halina Voss said the findings suggested that stress rather "
            "than time alone was the problem. Sitting in a queue is not the same as a walk "
            "through a park, she said, even if the clock shows the same number.",
            "The authors say employers could improve staff health by allowing staggered "
            "start times, which would let workers avoid the busiest part of the rush hour. The "
            "research team now plans a follow-up study of people who work from home part of the week.",
        ),
    ),
    Story(
        site="courier", slug="katok-v-gorodskom-parke", section="culture",
        title="В городском парке открылся каток под открытым небом",
        published=moment("2026-11-09 13:10", CET), authors=("Ольга Белова",),
        language="ru",
        paragraphs=(
            "В субботу в Центральном парке открылся самый большой в городе каток под "
            "открытым небом. Площадь льда составляет почти три тысячи квадратных метров, а "
            "в первый день на него вышли больше двух тысяч человек.",
            "Каток залили на месте бывшего летнего фонтана. Искусственное покрытие "
            "позволяет кататься даже при плюсовой температуре, поэтому сезон продлится до "
            "середины марта.",
            "Вход для детей до семи лет и пенсионеров бесплатный. Взрослый билет стоит "
            "триста рублей, прокат коньков обойдётся ещё в двести. По вечерам лёд "
            "подсвечивают гирляндами, а по выходным играет живая музыка.",
            "Директор парка Андрей Климов рассказал, что в этом году построили новую "
            "раздевалку с тёплым полом и пункт первой помощи. Кроме того, рядом работает "
            "кафе, где можно выпить горячий чай с пирогами.",
            "Для начинающих по утрам проводят бесплатные занятия с тренером. Записаться "
            "можно на сайте парка или в кассе у главного входа. Группы собираются по "
            "десять человек, а занятия длятся сорок пять минут. Организаторы просят "
            "приходить заранее, чтобы успеть переодеться и получить коньки нужного размера.",
        ),
    ),
    Story(
        site="courier", slug="flu-vaccine-clinics-extended", section="health",
        title="Flu vaccine clinics extend opening hours",
        published=moment("2026-11-23 08:00", CET), authors=("Anya Petrakis",),
        edition_added=2,
        paragraphs=(
            "Flu vaccination clinics across the region will open on weekday evenings and "
            "Saturday afternoons until Christmas, after uptake among people in their sixties "
            "fell well below last year's level.",
            "Health officials say only 58 percent of those eligible have been vaccinated so "
            "far, and hospital admissions for flu have begun to climb earlier than usual.",
            "The evening sessions will run until eight o'clock at health centres in the five "
            "largest towns. No appointment is needed, and the nasal spray version for "
            "children will also be available.",
            "Public health director Dr Marguerite Olsson urged carers and pregnant women in "
            "particular to come forward, saying the vaccine remained the simplest way to "
            "stay out of hospital this winter.",
            "Officials also reminded people with a fever to stay away from care homes and "
            "hospital wards for at least two days after their symptoms clear. A list of clinic "
            "addresses and opening times has been posted on the regional health website.",
        ),
    ),
)
