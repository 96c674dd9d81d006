/**
 * The words and regular-expression pieces the date rules are written in: month and
 * weekday names, day, year and count patterns, and the prepositions that mark a date.
 */
import { NUMBER_WORDS } from "../vocabulary.ts";
import { COUNT_WORDS } from "./text.ts";

export const MONTHS: Readonly<Record<string, number>> = {
  january: 0,
  jan: 0,
  february: 1,
  feb: 1,
  march: 2,
  mar: 2,
  april: 3,
  apr: 3,
  may: 4,
  june: 5,
  jun: 5,
  july: 6,
  jul: 6,
  august: 7,
  aug: 7,
  september: 8,
  sept: 8,
  sep: 8,
  october: 9,
  oct: 9,
  november: 10,
  nov: 10,
  december: 11,
  dec: 11,
};
export const MONTH = `(${Object.keys(MONTHS).join("|")})`;
/** Month words that are also ordinary words, only dates next to a number or a preposition. */
export const AMBIGUOUS_MONTHS = new Set([
  "may",
  "mar",
  "jan",
  "sep",
  "oct",
  "nov",
  "dec",
  "aug",
  "jun",
]);
/** "jan and feb", "jan vs feb": a month word right before another month is a month. */
export const MONTH_FOLLOWS = new RegExp(
  String.raw`^ (?:and|to|through|until|till|-|vs|versus|or|compared to|compared with) ${MONTH}\b`,
);
export const DAY = String.raw`(\d{1,2})(?:st|nd|rd|th)?`;
export const YEAR = String.raw`((?:19|20)\d{2})`;
export const COUNT = String.raw`(?:a )?(\d+|${COUNT_WORDS.join("|")})(?: of)?`;
export const AGO_COUNT = String.raw`(\d+|${Object.keys(NUMBER_WORDS).join("|")})`;
export const WEEKDAYS: Readonly<Record<string, number>> = {
  sunday: 0,
  sun: 0,
  monday: 1,
  mon: 1,
  tuesday: 2,
  tue: 2,
  tues: 2,
  wednesday: 3,
  wed: 3,
  thursday: 4,
  thu: 4,
  thur: 4,
  thurs: 4,
  friday: 5,
  fri: 5,
  saturday: 6,
  sat: 6,
};
export const DATE_PREPOSITION =
  /\b(?:in|during|for|of|since|from|through|until|till|to|between|and|over|throughout|on|by|starting|after|before|vs|versus|against|than|with)\s*$/;
