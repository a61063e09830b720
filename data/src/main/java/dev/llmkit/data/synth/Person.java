package dev.llmkit.data.synth;

/** One fictional person: the six facts the biographies state and the Q&amp;A pairs ask about. */
public record Person(int id, String name, boolean female, String birthDate, String birthCity, String university,
                     String major, String company, String companyCity, String split) {

    /** The six attributes, in the canonical order of the fixed (augment = 1) biography. */
    public enum Attribute { BIRTH_DATE, BIRTH_CITY, UNIVERSITY, MAJOR, COMPANY, COMPANY_CITY }

    public String value(Attribute a) {
        return switch (a) {
            case BIRTH_DATE -> birthDate;
            case BIRTH_CITY -> birthCity;
            case UNIVERSITY -> university;
            case MAJOR -> major;
            case COMPANY -> company;
            case COMPANY_CITY -> companyCity;
        };
    }
}
