package dev.llmkit.data.synth;

import java.util.List;

/** Built-in word lists for the fictional biographies. Names and companies are invented. */
final class WordLists {
    private WordLists() {}

    static final List<String> FEMALE = List.of(
            "Mara", "Elena", "Sofia", "Ingrid", "Amara", "Yuki", "Leila", "Noor", "Clara", "Ines", "Freya", "Anika",
            "Beatriz", "Chiara", "Dalia", "Esme", "Farah", "Greta", "Hana", "Ilse", "Jana", "Kaia", "Lucia", "Mirela",
            "Nadia", "Olena", "Priya", "Rosa", "Saoirse", "Talia", "Ursula", "Vera", "Wilma", "Ximena", "Yara", "Zofia",
            "Adele", "Brigid", "Celeste", "Dagny", "Elif", "Fleur", "Gemma", "Helga", "Isolde", "Johanna", "Kirsi",
            "Linnea", "Maren", "Nell", "Odette", "Paloma", "Quinn", "Rhea", "Selin", "Tove", "Una", "Valka", "Wren");
    static final List<String> MALE = List.of(
            "Tomas", "Anders", "Kofi", "Ravi", "Mateo", "Henrik", "Yusuf", "Dmitri", "Emil", "Felix", "Goran", "Hugo",
            "Ivo", "Jonas", "Kenji", "Lars", "Marco", "Nikolai", "Oskar", "Pavel", "Rafael", "Stefan", "Tariq", "Umar",
            "Viktor", "Wim", "Xavier", "Yann", "Zoltan", "Aurelio", "Bram", "Cyril", "Dario", "Eamon", "Florin", "Gunnar",
            "Hamid", "Ilya", "Jarek", "Kasimir", "Leander", "Milo", "Nils", "Otto", "Piet", "Quentin", "Rune", "Silas",
            "Teodor", "Ulrich", "Vasco", "Wendel", "Yorick", "Zeno", "Arvid", "Bastian", "Cosmo", "Dorian", "Evander");
    static final List<String> ONSETS = List.of(
            "b", "br", "c", "d", "dr", "f", "g", "gr", "h", "k", "kl", "l", "m", "n", "p", "qu", "r", "s", "st", "t",
            "tr", "v", "w", "z", "th", "sh", "ch", "bl", "fr");
    static final List<String> VOWELS = List.of("a", "e", "i", "o", "u", "ai", "ei", "ou", "ia", "y");
    static final List<String> CODAS = List.of("", "n", "r", "st", "m", "ll", "nd", "rk", "s", "th", "x", "ck", "rn", "lt");

    static final List<String> CITIES = List.of(
            "Lisbon", "Porto", "Madrid", "Valencia", "Seville", "Barcelona", "Marseille", "Lyon", "Bordeaux", "Nantes",
            "Brussels", "Antwerp", "Rotterdam", "Utrecht", "Hamburg", "Leipzig", "Dresden", "Munich", "Zurich", "Geneva",
            "Vienna", "Salzburg", "Prague", "Brno", "Krakow", "Gdansk", "Warsaw", "Vilnius", "Riga", "Tallinn",
            "Helsinki", "Tampere", "Stockholm", "Gothenburg", "Oslo", "Bergen", "Copenhagen", "Aarhus", "Reykjavik",
            "Dublin", "Cork", "Edinburgh", "Glasgow", "Manchester", "Leeds", "Bristol", "Cardiff", "Belfast", "Turin",
            "Milan", "Bologna", "Florence", "Naples", "Palermo", "Ljubljana", "Zagreb", "Split", "Sarajevo", "Belgrade",
            "Sofia", "Plovdiv", "Bucharest", "Cluj", "Budapest", "Debrecen", "Bratislava", "Athens", "Thessaloniki",
            "Istanbul", "Izmir", "Tbilisi", "Yerevan", "Baku", "Almaty", "Tashkent", "Cairo", "Alexandria", "Tunis",
            "Casablanca", "Dakar", "Accra", "Lagos", "Nairobi", "Kampala", "Addis Ababa", "Cape Town", "Durban",
            "Mumbai", "Pune", "Chennai", "Kolkata", "Dhaka", "Colombo", "Kathmandu", "Bangkok", "Hanoi", "Manila",
            "Jakarta", "Surabaya", "Osaka", "Sapporo", "Busan", "Taipei", "Montreal", "Quebec City", "Halifax",
            "Winnipeg", "Calgary", "Portland", "Denver", "Austin", "Atlanta", "Boston", "Chicago", "Pittsburgh",
            "Havana", "Bogota", "Medellin", "Quito", "Lima", "Cusco", "La Paz", "Santiago", "Valparaiso", "Montevideo",
            "Rosario", "Cordoba", "Recife", "Salvador", "Curitiba", "Auckland", "Wellington", "Hobart", "Perth", "Adelaide");
    static final List<String> UNIVERSITIES = List.of(
            "Northbridge University", "the University of Calder", "Hollins Institute of Technology", "Marrow College",
            "the Royal Academy of Vesten", "Saint Aldric University", "the University of Brennmark", "Eastmoor Polytechnic",
            "Westhaven University", "the Larkspur Institute", "Corvin University", "the University of Tessaly Bay",
            "Ashford Technical University", "Kingsreach College", "the Halvard School of Economics", "Orrin State University",
            "the University of Pellmar", "Brightwater University", "Greyfield College", "the Institute of Sunmere",
            "Redmont University", "the Valcourt Conservatory", "Fennick University", "Silverdale Polytechnic",
            "the University of Oarsby", "Thornbury Institute", "Mistral University", "the Academy of Quillon",
            "Harrowgate University", "Lindqvist Technical College", "the University of Norrland Coast", "Evermere College",
            "Stonewick University", "the Caldera Institute of Science", "Amberly University", "Dunmore College",
            "the University of Kestrel Point", "Ravensholm University", "Wexley Institute", "the Orbis School of Design");
    static final List<String> MAJORS = List.of(
            "mathematics", "physics", "chemistry", "biology", "computer science", "economics", "history", "philosophy",
            "linguistics", "architecture", "civil engineering", "mechanical engineering", "electrical engineering",
            "chemical engineering", "astronomy", "geology", "marine biology", "statistics", "psychology", "sociology",
            "anthropology", "political science", "law", "medicine", "nursing", "pharmacy", "music composition",
            "art history", "graphic design", "journalism", "comparative literature", "classics", "accounting", "finance",
            "business administration", "urban planning", "environmental science", "agronomy", "oceanography",
            "materials science", "biochemistry", "neuroscience", "public health", "education", "theatre", "film studies",
            "aerospace engineering", "robotics", "data science", "cryptography");
    static final List<String> COMPANIES = List.of(
            "Quellwater Analytics", "Brassfern Logistics", "Oakhollow Foods", "Tidewell Energy", "Marlstone Bank",
            "Cinderleaf Games", "Pinecrest Robotics", "Glimmerstone Optics", "Harbinger Shipping", "Velvetrock Records",
            "Northwind Textiles", "Copperline Telecom", "Lumenfold Software", "Saltmarsh Pharmaceuticals", "Ironbark Construction",
            "Bluefin Aerospace", "Emberglow Ceramics", "Foxhollow Publishing", "Gildcrest Insurance", "Hazelmoor Medical",
            "Juniper Vale Motors", "Kestrelwing Airlines", "Larchmont Chemicals", "Moonquarry Mining", "Nettlebrook Farms",
            "Opaline Cosmetics", "Pebblecreek Furniture", "Quartzline Semiconductors", "Rowanfield Hotels", "Stormgate Security",
            "Thistledown Toys", "Umberlight Studios", "Vantor Biotech", "Willowmere Water", "Yarrowby Foods",
            "Zephyrine Wind Power", "Alderbrook Consulting", "Birchgrove Bakeries", "Cobalt Reach Networks", "Driftwood Media",
            "Eastling Railways", "Fernhaven Solar", "Granite Arc Engineering", "Hollowpeak Outfitters", "Inkwell Labs",
            "Jadeport Trading", "Kilnworth Glass", "Lanternfish Marine", "Mossbank Paper", "Nightjar Instruments");
    static final List<String> MONTHS = List.of("January", "February", "March", "April", "May", "June", "July",
            "August", "September", "October", "November", "December");
}
