/** One message of a chat. */
export interface ChatTurn {
  role: 'system' | 'user' | 'assistant';
  content: string;
}
