package dev.llmkit.data.synth;

import dev.llmkit.data.synth.Person.Attribute;
import java.util.List;
import java.util.Map;

/**
 * Sentence templates per attribute ({@code {S}} subject: the name or a pronoun, {@code {P}} possessive,
 * {@code {V}} the value) and one question per attribute. Template 0 is the fixed wording used with augment = 1.
 */
final class Templates {
    private Templates() {}

    static final Map<Attribute, List<String>> SENTENCES = Map.of(
            Attribute.BIRTH_DATE, List.of(
                    "{S} was born on {V}.",
                    "{S} came into the world on {V}.",
                    "{P} birthday is {V}.",
                    "{S} celebrates {P_low} birthday on {V}.",
                    "{S} was born on the date {V}.",
                    "The birth of {O} took place on {V}.",
                    "{S} first saw the light of day on {V}.",
                    "{P} date of birth is {V}."),
            Attribute.BIRTH_CITY, List.of(
                    "{S} was born in {V}.",
                    "{S} spent {P_low} early years in {V}.",
                    "{P} birthplace is {V}.",
                    "{S} comes from {V}.",
                    "{S} grew up in {V}, the city of {P_low} birth.",
                    "{S} is a native of {V}.",
                    "{V} is where {S_low} was born.",
                    "{S} hails from {V}."),
            Attribute.UNIVERSITY, List.of(
                    "{S} studied at {V}.",
                    "{S} received {P_low} education at {V}.",
                    "{S} graduated from {V}.",
                    "{S} attended {V}.",
                    "{S} completed {P_low} degree at {V}.",
                    "{V} is where {S_low} went to university.",
                    "{S} enrolled at {V}.",
                    "{S} is an alumnus of {V}."),
            Attribute.MAJOR, List.of(
                    "{S} majored in {V}.",
                    "{S} focused {P_low} studies on {V}.",
                    "{P} field of study was {V}.",
                    "{S} specialized in {V}.",
                    "{S} earned a degree in {V}.",
                    "{S} devoted {P_low} studies to {V}.",
                    "{S} pursued a degree in {V}.",
                    "{S} chose {V} as {P_low} major."),
            Attribute.COMPANY, List.of(
                    "{S} worked for {V}.",
                    "{S} was employed by {V}.",
                    "{S} built {P_low} career at {V}.",
                    "{P} employer was {V}.",
                    "{S} held a position at {V}.",
                    "{S} joined the staff of {V}.",
                    "{V} employed {O}.",
                    "{S} took a job at {V}."),
            Attribute.COMPANY_CITY, List.of(
                    "{S} worked in {V}.",
                    "{S} was based in {V}.",
                    "{P} office was in {V}.",
                    "{S} commuted to work in {V}.",
                    "{S} lived and worked in {V}.",
                    "{S} moved to {V} for work.",
                    "{P} workplace was located in {V}.",
                    "{S} spent {P_low} working life in {V}."));

    static final Map<Attribute, String> QUESTIONS = Map.of(
            Attribute.BIRTH_DATE, "What is the birth date of {N}?",
            Attribute.BIRTH_CITY, "Where was {N} born?",
            Attribute.UNIVERSITY, "Which university did {N} attend?",
            Attribute.MAJOR, "What did {N} study?",
            Attribute.COMPANY, "Which company did {N} work for?",
            Attribute.COMPANY_CITY, "In which city did {N} work?");

    /** Renders a template; {@code useName} puts the full name in the subject, else a pronoun. */
    static String render(String template, Person p, boolean useName, String value) {
        String subj = useName ? p.name() : p.female() ? "She" : "He";
        String subjLow = useName ? p.name() : p.female() ? "she" : "he";
        String obj = p.name(); // "the birth of her" reads badly: objects always use the name
        String poss = useName ? p.name() + "'s" : p.female() ? "Her" : "His";
        String possLow = p.female() ? "her" : "his";
        String s = template.replace("{S_low}", subjLow).replace("{S}", subj).replace("{O}", obj)
                .replace("{P_low}", possLow).replace("{P}", poss).replace("{V}", value);
        return Character.toUpperCase(s.charAt(0)) + s.substring(1);
    }
}
